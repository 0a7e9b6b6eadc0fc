// `-v`: macros and rules printed as the compiler adds them, in OpenBSD's
// format (flow and SA lines, isakmpd commands for ike rules). OpenBSD
// prints at parse time, so the text interleaves with parse errors exactly
// as it does there.
#pragma once

#include <cstdio>
#include <string>

#include "common/diagnostics.h"
#include "compiler/resolver.h"
#include "compiler/rule_compiler.h"

namespace ipsecctl::output {

struct PrintOptions {
  bool rule_numbers = false;  // -vv: "@N " before each rule
  bool deleting = false;      // -d: IKE rules print their teardown commands
  bool show_keys = false;     // -k
};

class RulePrinter final : public compiler::RuleListener {
 public:
  RulePrinter(std::FILE* out, compiler::Resolver& resolver, Diagnostics& diagnostics,
              PrintOptions options)
      : out_(out), resolver_(resolver), diag_(diagnostics), options_(options) {}
  void macro_defined(const std::string& name, const std::string& value) override;
  void rule_added(const compiler::Plan& plan, compiler::RuleRef rule) override;

 private:
  void write(const std::string& text) { std::fwrite(text.data(), 1, text.size(), out_); }
  std::FILE* out_;
  compiler::Resolver& resolver_;
  Diagnostics& diag_;
  PrintOptions options_;
};

}  // namespace ipsecctl::output
