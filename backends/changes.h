// What a load changed, or with --diff would change, as data: per backend,
// counts by kind of entry and, when asked for, each entry that is added,
// changed or removed. output/ renders it (the --diff and -v lines, the -j
// summary); nothing here holds a key that the entries themselves do not
// (SAs carry theirs, and only -k prints them).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "backends/kernel_objects.h"

namespace ipsecctl::backends {

enum class ChangeVerb : std::uint8_t { Add, Change, Remove };

struct ChangeCounts {
  std::size_t added = 0;
  std::size_t changed = 0;
  std::size_t removed = 0;
  std::size_t unchanged = 0;
  bool any() const { return added + changed + removed != 0; }
  void count(ChangeVerb verb) {
    (verb == ChangeVerb::Add ? added : verb == ChangeVerb::Change ? changed : removed) += 1;
  }
  friend bool operator==(const ChangeCounts&, const ChangeCounts&) = default;
};

// One entry that changes. Kernel entries carry the policy or SA (a
// changed one also what the kernel held before); daemon entries carry
// their kind and name.
struct EntryChange {
  ChangeVerb verb = ChangeVerb::Add;
  std::optional<KernelPolicy> policy;
  std::optional<KernelPolicy> policy_before;
  std::optional<KernelState> state;
  std::string kind;  // daemon entries: "connection", "secret", "rule"
  std::string name;
};

// Kinds, as counted and printed.
inline constexpr const char* kFlows = "flows";
inline constexpr const char* kSas = "sas";
inline constexpr const char* kConnections = "connections";
inline constexpr const char* kSecrets = "secrets";
inline constexpr const char* kKeys = "keys";  // private keys (charon)
inline constexpr const char* kPools = "pools";  // address pools (charon)
inline constexpr const char* kRules = "rules";

struct BackendChanges {
  std::string backend;                         // "XFRM", "charon (VICI)", ...
  std::map<std::string, ChangeCounts> counts;  // by kind
  std::vector<EntryChange> entries;            // only when listing was asked for
  bool any() const {
    for (const auto& [kind, c] : counts)
      if (c.any()) return true;
    return false;
  }
};

}  // namespace ipsecctl::backends
