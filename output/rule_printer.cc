#include "output/rule_printer.h"

#include "compiler/isakmpd_commands.h"
#include "compiler/rule_text.h"

namespace ipsecctl::output {

using namespace compiler;

void RulePrinter::macro_defined(const std::string& name, const std::string& value) {
  write(name + " = \"" + value + "\"\n");
}

void RulePrinter::rule_added(const Plan& plan, RuleRef rule) {
  std::uint32_t nr = 0;
  std::string text;
  std::optional<std::string> error;
  switch (rule.kind) {
    case RuleKind::Flow:
      nr = plan.flows[rule.index].nr;
      text = format_flow(plan.flows[rule.index], resolver_);
      break;
    case RuleKind::Sa:
      nr = plan.sas[rule.index].nr;
      text = format_sa(plan.sas[rule.index], options_.show_keys);
      break;
    case RuleKind::Bundle:
      nr = plan.bundles[rule.index].nr;
      text = format_bundle(plan.bundles[rule.index]);
      break;
    case RuleKind::Ike: {
      const IkeEntry& ike = plan.ikes[rule.index];
      // isakmpd never sees an IKEv2 rule: `-nv` shows those at the end,
      // as charon gets them (cli/main.cc).
      if (ike.version == IkeVersion::V2) return;
      nr = ike.nr;
      auto commands =
          options_.deleting ? isakmpd_delete_commands(ike) : isakmpd_add_commands(ike);
      text = std::move(commands.text);
      error = std::move(commands.error);
      break;
    }
  }
  if (options_.rule_numbers) write("@" + std::to_string(nr) + " ");
  write(text);
  // OpenBSD's generator warns (warnx) where it stops; the exit status stays.
  if (error) diag_.note(*error);
}

}  // namespace ipsecctl::output
