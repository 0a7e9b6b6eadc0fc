#include "output/change_text.h"

#include "backends/kernel/kernel_show.h"
#include "compiler/rule_text.h"

namespace ipsecctl::output {

namespace {

std::string without_newline(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

char sign(backends::ChangeVerb verb) {
  return verb == backends::ChangeVerb::Add ? '+' : verb == backends::ChangeVerb::Change ? '~' : '-';
}

std::string policy_text(const backends::KernelPolicy& policy, compiler::Resolver& resolver) {
  auto flow = backends::flow_from_policy(policy);
  return flow ? without_newline(compiler::format_flow(*flow, resolver)) : "policy (not a flow)";
}

std::string entry_line(const backends::BackendChanges& backend, const backends::EntryChange& e,
                       compiler::Resolver& resolver, bool show_keys) {
  std::string line(1, sign(e.verb));
  line += ' ';
  if (e.policy) {
    line += policy_text(*e.policy, resolver) + "\n";
    if (e.policy_before) line += "    was: " + policy_text(*e.policy_before, resolver) + "\n";
    return line;
  }
  if (e.state) {
    // An SA's text with keys is two or three lines; each gets a margin.
    std::string sa = without_newline(
        compiler::format_sa(backends::sa_from_state(*e.state), show_keys));
    for (std::size_t at = sa.find('\n'); at != std::string::npos; at = sa.find('\n', at + 1))
      sa.insert(at + 1, "  ");
    return line + sa + "\n";
  }
  return line + backend.backend + " " + e.kind + " " + e.name + "\n";
}

std::string summary_line(const backends::BackendChanges& backend) {
  std::string line = "# " + backend.backend + ":";
  bool first = true;
  for (const auto& [kind, c] : backend.counts) {
    line += first ? " " : "; ";
    first = false;
    line += kind + " " + std::to_string(c.added) + " added, " + std::to_string(c.changed) +
            " changed, " + std::to_string(c.removed) + " removed, " +
            std::to_string(c.unchanged) + " unchanged";
  }
  return line + "\n";
}

}  // namespace

std::string render_changes_text(const std::vector<backends::BackendChanges>& changes,
                                compiler::Resolver& resolver, bool show_keys) {
  std::string out;
  for (const auto& backend : changes)
    for (const auto& e : backend.entries) out += entry_line(backend, e, resolver, show_keys);
  for (const auto& backend : changes) out += summary_line(backend);
  return out;
}

}  // namespace ipsecctl::output
