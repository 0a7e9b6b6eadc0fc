// Macros (`name = value`, `-D name=value`). Values are text that the
// scanner reads again where `$name` appears; they are never expanded inside
// another expansion.
//
// Lookups are by hash: a configuration may define hundreds of thousands of
// macros. The definition order is kept for the -vv report of unused ones.
#pragma once

#include <functional>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ipsecctl::parser {

class MacroTable {
 public:
  // A persistent definition (from -D) is never replaced by the file. A
  // redefinition moves the macro to the end of the order, as OpenBSD's
  // list does.
  void define(const std::string& name, const std::string& value, bool persistent);
  // Parses "name=value" as -D does: the name is everything before the last '='.
  bool define_from_command_line(const std::string& assignment);
  // Looks a macro up and marks it used; null when it is not defined here
  // nor inherited.
  const std::string* use(const std::string& name);
  // What a file read in pieces (compiler/syntax_check) knows of the pieces
  // before this one: a name this table does not define is asked of it
  // (which may wait until those pieces are read). The answer must stay
  // valid as long as this table is used.
  using Inherited = std::function<const std::string*(const std::string& name)>;
  void inherit(Inherited inherited) { inherited_ = std::move(inherited); }
  // The value a later piece finds here: defined here, else inherited.
  // Marks nothing, so other threads may ask once this table is complete.
  const std::string* lookup(const std::string& name) const;
  // A macro ipsecctl reads itself (ipsecctl_ike_version): defining it is
  // using it, so -vv never calls it unused.
  void read_by_ipsecctl(std::string name) { read_by_ipsecctl_.push_back(std::move(name)); }
  std::vector<std::string> unused() const;
  // The names defined, for "did you mean".
  std::vector<std::string> names() const;

 private:
  struct Macro {
    std::string name;
    std::string value;
    bool persistent = false;
    bool used = false;
  };
  bool counts_as_used(const Macro& m) const;
  std::list<Macro> order_;
  std::vector<std::string> read_by_ipsecctl_;
  std::unordered_map<std::string, std::list<Macro>::iterator> by_name_;
  Inherited inherited_;
};

}  // namespace ipsecctl::parser
