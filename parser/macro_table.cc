#include "parser/macro_table.h"

namespace ipsecctl::parser {

void MacroTable::define(const std::string& name, const std::string& value, bool persistent) {
  if (auto it = by_name_.find(name); it != by_name_.end()) {
    if (it->second->persistent) return;
    order_.erase(it->second);
    by_name_.erase(it);
  }
  order_.push_back(Macro{name, value, persistent, false});
  by_name_.emplace(name, std::prev(order_.end()));
}

bool MacroTable::define_from_command_line(const std::string& assignment) {
  auto eq = assignment.rfind('=');
  if (eq == std::string::npos) return false;
  define(assignment.substr(0, eq), assignment.substr(eq + 1), true);
  return true;
}

const std::string* MacroTable::use(const std::string& name) {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return inherited_ ? inherited_(name) : nullptr;
  it->second->used = true;
  return &it->second->value;
}

const std::string* MacroTable::lookup(const std::string& name) const {
  auto it = by_name_.find(name);
  if (it != by_name_.end()) return &it->second->value;
  return inherited_ ? inherited_(name) : nullptr;
}

bool MacroTable::counts_as_used(const Macro& m) const {
  if (m.used) return true;
  for (const auto& name : read_by_ipsecctl_)
    if (name == m.name) return true;
  return false;
}

std::vector<std::string> MacroTable::unused() const {
  std::vector<std::string> names;
  for (const auto& m : order_)
    if (!counts_as_used(m)) names.push_back(m.name);
  return names;
}

std::vector<std::string> MacroTable::names() const {
  std::vector<std::string> names;
  for (const auto& m : order_) names.push_back(m.name);
  return names;
}

}  // namespace ipsecctl::parser
