// Rules as text, in OpenBSD's formats (`ipsecctl -nv` and `-s`).
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "compiler/plan.h"
#include "compiler/resolver.h"
#include "compiler/rule_compiler.h"

namespace ipsecctl::compiler {

const char* satype_name(SaType type);
const char* flow_type_name(FlowType type);

std::string format_flow(const FlowEntry& flow, Resolver& resolver);
// `-s flow -c`: flows that differ only in their addresses, as one line
// with braces ("from { a, b } to { c }").
std::string format_flow_group(const FlowEntry& first, const std::vector<IpAddress>& sources,
                              const std::vector<IpAddress>& destinations, Resolver& resolver);
std::string format_sa(const SaEntry& sa, bool show_keys);
std::string format_bundle(const BundleEntry& bundle);

struct PrintOptions {
  bool rule_numbers = false;  // -vv: "@N " before each rule
  bool deleting = false;      // -d: IKE rules print their teardown commands
  bool show_keys = false;     // -k
};

// Prints macros and rules as the compiler adds them (`-v`). Diagnostics
// from the isakmpd generator go to stderr after the partial text, as in
// OpenBSD.
class RulePrinter final : public RuleListener {
 public:
  RulePrinter(std::FILE* out, Resolver& resolver, Diagnostics& diagnostics,
              PrintOptions options)
      : out_(out), resolver_(resolver), diag_(diagnostics), options_(options) {}
  void macro_defined(const std::string& name, const std::string& value) override;
  void rule_added(const Plan& plan, RuleRef rule) override;

 private:
  void write(const std::string& text) { std::fwrite(text.data(), 1, text.size(), out_); }
  std::FILE* out_;
  Resolver& resolver_;
  Diagnostics& diag_;
  PrintOptions options_;
};

}  // namespace ipsecctl::compiler
