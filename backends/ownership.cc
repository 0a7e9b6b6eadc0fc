#include "backends/ownership.h"

namespace ipsecctl::backends {

const char* owned_kind_word(OwnedKind kind) {
  switch (kind) {
    case OwnedKind::Policy: return "policy";
    case OwnedKind::State: return "state";
    case OwnedKind::ViciConnection: return "vici-conn";
    case OwnedKind::ViciSecret: return "vici-secret";
    case OwnedKind::IsakmpdRule: return "isakmpd-rule";
    case OwnedKind::ViciKey: return "vici-key";
    case OwnedKind::ViciPool: return "vici-pool";
  }
  return "?";
}

std::optional<OwnedKind> owned_kind_from_word(std::string_view word) {
  for (OwnedKind k : {OwnedKind::Policy, OwnedKind::State, OwnedKind::ViciConnection,
                      OwnedKind::ViciSecret, OwnedKind::IsakmpdRule, OwnedKind::ViciKey,
                      OwnedKind::ViciPool})
    if (word == owned_kind_word(k)) return k;
  return std::nullopt;
}

}  // namespace ipsecctl::backends
