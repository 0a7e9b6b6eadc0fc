#include "backends/vici/vici_auth.h"

#include "backends/ownership.h"

namespace ipsecctl::backends::vici {

using compiler::IkeEntry;

// "ADDR/32" (the srcid extension) is the address itself to strongSwan.
std::string identity_text(const std::string& id) {
  auto slash = id.rfind('/');
  if (slash != std::string::npos &&
      (id.compare(slash, std::string::npos, "/32") == 0 ||
       id.compare(slash, std::string::npos, "/128") == 0))
    return id.substr(0, slash);
  return id;
}

void add_owner(std::vector<std::string>& owners, const std::string& id) {
  for (const auto& o : owners)
    if (o == id) return;
  owners.push_back(id);
}


// The peer's identity as the rule knows it: its dstid, else its address.
std::pair<std::string, compiler::IdType> peer_identity(const IkeEntry& r) {
  if (r.dstid) return {identity_text(r.dstid->text), r.dstid->type};
  if (r.peer)
    return {compiler::format_address(r.peer->address),
            r.peer->address.family == compiler::Family::Inet6 ? compiler::IdType::Ipv6
                                                               : compiler::IdType::Ipv4};
  return {"", compiler::IdType::Unknown};
}

// This host's identity, as isakmpd has it: the srcid, else its address
// (the rule's `local`, else the one it reaches the peer from). charon
// must be told: its own default would be the certificate's subject, or a
// raw key's fingerprint, which no peer looks a key up by.
std::string own_identity(const IkeEntry& r, const SourceAddressLookup& source_for) {
  if (r.srcid) return identity_text(r.srcid->text);
  if (r.local) return compiler::format_address(r.local->address);
  if (r.peer && source_for)
    if (auto from = source_for(r.peer->address)) return compiler::format_address(*from);
  return "";
}

std::optional<RuleKeys> keys_for(const IkeEntry& r, keys::KeyDirectory& directory,
                                 Diagnostics& diag, const SourceAddressLookup& source_for) {
  const std::string own = own_identity(r, source_for);
  auto local = directory.local(own, r.origin, diag);
  const auto [identity, type] = peer_identity(r);
  auto peer = directory.peer(identity, type, r.origin, diag);
  if (!local || !peer) return std::nullopt;
  return RuleKeys{std::move(*local), std::move(*peer), own, peer->public_key ? identity : ""};
}

// The auth sections of a rule without psk: this host signs with its
// certificate or raw key; the peer is checked with its raw key (bound to
// the identity it is named by) or with the authorities.
void add_keys(const RuleKeys& k, ViciSection& local, ViciSection& remote, ViciConnection& c) {
  auto carry = [&](const keys::PemFile& f) {
    c.key_files[f.pem] = f.path;
    return f.pem;
  };
  if (!k.own_identity.empty() && vici::find(local, "id") == nullptr)
    local.push_back(value("id", k.own_identity));
  if (k.local.certificate) local.push_back(list("certs", {carry(*k.local.certificate)}));
  else if (k.local.public_key) local.push_back(list("pubkeys", {carry(*k.local.public_key)}));
  if (k.peer.public_key) {
    if (!k.peer_identity.empty() && vici::find(remote, "id") == nullptr)
      remote.push_back(value("id", k.peer_identity));
    remote.push_back(list("pubkeys", {carry(*k.peer.public_key)}));
  } else {
    std::vector<std::string> cas;
    for (const keys::PemFile& ca : k.peer.authorities) cas.push_back(carry(ca));
    remote.push_back(list("cacerts", cas));
  }
}

// A shared secret owned by what tells this peer apart: its address
// (IKEv1: charon falls back to the addresses when the identities do not
// decide) and the identity it must show. No owner at all makes a default
// secret.
//
// IKEv2 has no such fallback: charon picks the key by identities only, and
// as the initiator before the peer has said who it is (its identity is
// then %any). Without a dstid the key is also owned by %any, so that
// charon finds it; translate() refuses two such keys that differ, since
// nothing could tell them apart.
ViciSecret secret_of(const IkeEntry& r, const std::string& connection) {
  std::vector<std::string> owners;
  if (r.peer) add_owner(owners, compiler::format_address_hex(r.peer->address));
  if (r.dstid) add_owner(owners, identity_text(r.dstid->text));
  else if (r.version != IkeVersion::V1) add_owner(owners, "%any");
  ViciSecret secret;
  secret.base_id = "ike-ipsecctl-" + connection;
  secret.body = {value("type", "IKE"), value("data", r.psk_text), list("owners", owners)};
  const std::vector<std::uint8_t> bytes = encode(secret.body);
  secret.digest = digest_bytes(bytes.data(), bytes.size());
  return secret;
}

}  // namespace ipsecctl::backends::vici
