// What charon holds, as the reload property compares it: each connection
// as `list-conns` describes it (every setting, rendered as text) and the
// shared secrets by base id (the part before '~': a changed secret is
// loaded under a new generation, and a fresh charon numbers its own).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include <utility>

#include "backends/changes.h"

namespace ipsecctl::property {

struct CharonView {
  std::map<std::string, std::string> connections;      // name -> settings
  std::map<std::string, std::set<std::string>> secrets;  // base id -> ids
};

// Every setting of each connection as charon logs it when it is loaded
// (its log at cfg level 2: list-conns leaves out proposals, lifetimes and
// most else), kept up to date by reading what the log gained since.
class CharonSettingsLog {
 public:
  explicit CharonSettingsLog(std::string path) : path_(std::move(path)) {}
  void update();
  // The last settings logged for `connection`, "" when none were.
  std::string settings(const std::string& connection) const;

 private:
  std::string path_;
  std::uint64_t offset_ = 0;
  std::string partial_;  // a line not yet ended
  std::map<std::string, std::string> settings_;
  std::string block_name_, block_thread_, block_;
  void line(const std::string& text);
};

// Throws backends::vici::ViciError when charon does not answer. With a
// settings log, each connection's text ends with its logged settings.
CharonView charon_view(const std::string& vici_socket, CharonSettingsLog* log);

// The changes between two views, as change_lines() writes a daemon's
// reported ones ("add connection NAME = ", "remove secret BASE", ...).
std::set<std::string> change_lines(const CharonView& before, const CharonView& after);
// A daemon's reported changes with its secrets named by base id.
std::set<std::string> daemon_change_lines(const backends::BackendChanges& changes);
// Compared with a fresh charon: the same connections with the same
// settings, and secrets under the same base ids.
std::string difference(const CharonView& a, const CharonView& b);

}  // namespace ipsecctl::property
