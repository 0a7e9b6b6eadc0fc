// The front half of the pipeline in one call: read a configuration
// (with its includes and macros), compile it into a plan, and print rules
// as they are added when asked to.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/diagnostics.h"
#include "compiler/iked/iked_builder.h"
#include "compiler/plan.h"
#include "compiler/resolver.h"
#include "compiler/rule_compiler.h"

namespace ipsecctl::compiler {

// The language of the file: OpenBSD's ipsec.conf(5), or iked.conf(5)
// (--iked), a second parser into the same plan.
enum class Language : std::uint8_t { IpsecConf, Iked };

struct CompileRequest {
  Language language = Language::IpsecConf;
  std::string path;                   // "-" for standard input
  std::vector<std::string> defines;   // -D name=value, already validated
  RuleListener* listener = nullptr;   // told of each rule as it is added (-v)
  // Rules are printed as added (-v, adding): OpenBSD's printer then gives
  // `ike dynamic` rules the host name as srcid, which later checks see.
  bool printing_adds = false;
  bool report_unused_macros = false;  // -vv
  bool check_file_secrecy = true;
  bool allow_static_aead = false;  // --allow-static-aead
  // --ike-version: ike rules speak it until the file sets
  // ipsecctl_ike_version (-D ipsecctl_ike_version=V fixes it for all).
  IkeVersion ike_version = IkeVersion::V1;
  // iked.conf: told of each user and policy as it is read (-v).
  iked::ConfigBuilder::Listener iked_listener;
};

struct CompileResult {
  Plan plan;
  bool readable = true;  // false: the file itself could not be opened
  int errors = 0;
  // OpenBSD would have exited at once (err/errx): the message, printed.
  std::optional<std::string> fatal;
  bool ok() const { return readable && errors == 0 && !fatal; }
};

// Never throws for a bad configuration: a fatal condition is reported
// through Diagnostics and returned in `fatal`.
CompileResult compile_config(const CompileRequest& request, Resolver& resolver,
                             Diagnostics& diagnostics);
// The same into a result the caller holds (empty): its plan can be
// watched while it grows (see RuleListener).
void compile_config(const CompileRequest& request, Resolver& resolver, Diagnostics& diagnostics,
                    CompileResult& into);

}  // namespace ipsecctl::compiler
