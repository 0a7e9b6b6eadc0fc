// How an IKE rule authenticates in charon's model: its identities, the
// keys and certificates of a rule without psk (isakmpd's or iked's layout,
// see backends/keys/key_directory.h), and the shared secret of a rule
// with one. Both languages use it: ipsec.conf's ike rules and iked.conf's
// policies (as the same IkeEntry fields: srcid, dstid, peer, local, psk).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "backends/keys/key_directory.h"
#include "backends/vici/vici_config.h"
#include "common/diagnostics.h"
#include "compiler/plan.h"

namespace ipsecctl::backends::vici {

// "ADDR/32" (the srcid extension) is the address itself to strongSwan.
std::string identity_text(const std::string& id);

void add_owner(std::vector<std::string>& owners, const std::string& id);

// The keys of a rule without psk.
struct RuleKeys {
  keys::LocalCredentials local;
  keys::PeerCredentials peer;
  std::string own_identity;   // what this host shows ("" when unknown)
  std::string peer_identity;  // what a raw key is bound to ("" for none)
};

// The peer's identity as the rule knows it: its dstid, else its address.
std::pair<std::string, compiler::IdType> peer_identity(const compiler::IkeEntry& r);
// This host's identity, as isakmpd has it: the srcid, else its address.
std::string own_identity(const compiler::IkeEntry& r, const SourceAddressLookup& source_for);
std::optional<RuleKeys> keys_for(const compiler::IkeEntry& r, keys::KeyDirectory& directory,
                                 Diagnostics& diag, const SourceAddressLookup& source_for);
// The auth sections of a rule without psk.
void add_keys(const RuleKeys& k, ViciSection& local, ViciSection& remote, ViciConnection& c);
// The shared secret of a rule with psk, for connection `connection`.
ViciSecret secret_of(const compiler::IkeEntry& r, const std::string& connection);

}  // namespace ipsecctl::backends::vici
