// Macros (`name = value`, `-D name=value`). Values are text that the
// scanner reads again where `$name` appears; they are never expanded inside
// another expansion.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ipsecctl::parser {

class MacroTable {
 public:
  // A persistent definition (from -D) is never replaced by the file.
  void define(const std::string& name, const std::string& value, bool persistent);
  // Parses "name=value" as -D does: the name is everything before the last '='.
  bool define_from_command_line(const std::string& assignment);
  // Looks a macro up and marks it used.
  std::optional<std::string> use(const std::string& name);
  std::vector<std::string> unused() const;

 private:
  struct Macro {
    std::string name;
    std::string value;
    bool persistent = false;
    bool used = false;
  };
  Macro* find(const std::string& name);
  std::vector<Macro> macros_;  // definition order, for the -vv report
};

}  // namespace ipsecctl::parser
