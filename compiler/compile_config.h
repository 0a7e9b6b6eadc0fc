// The front half of the pipeline in one call: read a configuration
// (with its includes and macros), compile it into a plan, and print rules
// as they are added when asked to.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "compiler/plan.h"
#include "compiler/resolver.h"
#include "compiler/rule_printer.h"
#include "common/diagnostics.h"

namespace ipsecctl::compiler {

struct CompileRequest {
  std::string path;                   // "-" for standard input
  std::vector<std::string> defines;   // -D name=value, already validated
  bool print_rules = false;           // -v (and not -s)
  PrintOptions print;
  bool report_unused_macros = false;  // -vv
  bool check_file_secrecy = true;
  bool allow_static_aead = false;  // --allow-static-aead
};

struct CompileResult {
  Plan plan;
  bool readable = true;  // false: the file itself could not be opened
  int errors = 0;
  bool ok() const { return readable && errors == 0; }
};

CompileResult compile_config(const CompileRequest& request, Resolver& resolver,
                             Diagnostics& diagnostics, std::FILE* out = stdout);

}  // namespace ipsecctl::compiler
