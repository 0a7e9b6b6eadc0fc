#include "parser/macro_table.h"

#include <algorithm>

namespace ipsecctl::parser {

MacroTable::Macro* MacroTable::find(const std::string& name) {
  auto it = std::find_if(macros_.begin(), macros_.end(),
                         [&](const Macro& m) { return m.name == name; });
  return it == macros_.end() ? nullptr : &*it;
}

void MacroTable::define(const std::string& name, const std::string& value, bool persistent) {
  if (Macro* existing = find(name)) {
    if (existing->persistent) return;
    // A redefinition moves to the end, as a fresh definition would.
    macros_.erase(macros_.begin() + (existing - macros_.data()));
  }
  macros_.push_back(Macro{name, value, persistent, false});
}

bool MacroTable::define_from_command_line(const std::string& assignment) {
  auto eq = assignment.rfind('=');
  if (eq == std::string::npos) return false;
  define(assignment.substr(0, eq), assignment.substr(eq + 1), true);
  return true;
}

std::optional<std::string> MacroTable::use(const std::string& name) {
  Macro* m = find(name);
  if (m == nullptr) return std::nullopt;
  m->used = true;
  return m->value;
}

std::vector<std::string> MacroTable::unused() const {
  std::vector<std::string> names;
  for (const auto& m : macros_)
    if (!m.used) names.push_back(m.name);
  return names;
}

}  // namespace ipsecctl::parser
