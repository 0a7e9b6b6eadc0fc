#include "backends/vici/vici_config.h"

#include <algorithm>
#include <map>

#include "backends/ownership.h"
#include "backends/vici/vici_auth.h"
#include "backends/vici/vici_iked.h"
#include "compiler/ike_policy.h"

namespace ipsecctl::backends::vici {

using compiler::IkeEntry;
using parser::IkeMode;
using parser::SaType;

namespace {

std::string seconds(long long s) { return std::to_string(s) + "s"; }

std::string traffic_selector(const compiler::Endpoint& e, std::uint8_t proto, std::uint16_t port) {
  std::string ts = compiler::format_address_hex(compiler::network_of(e.address)) + "/" +
                   std::to_string(e.address.prefixlen);
  if (proto != 0 || port != 0)
    ts += "[" + (proto != 0 ? std::to_string(proto) : std::string("%any")) +
          (port != 0 ? "/" + std::to_string(port) : std::string()) + "]";
  return ts;
}

// A child's traffic selectors on one side. A sec(4) interface carries
// everything, and an IKEv2 child can say so for both families at once
// (IPv4 over an IPv6 tunnel, as route-based VPNs do); an IKEv1 quick mode
// carries one pair, 0.0.0.0/0 as OpenBSD writes it.
std::vector<std::string> selectors(const IkeEntry& r, const compiler::Endpoint& e,
                                   std::uint16_t port) {
  if (r.sec_interface && r.version == IkeVersion::V2) return {"0.0.0.0/0", "::/0"};
  return {traffic_selector(e, r.proto, port)};
}

// An address as isakmpd names it, written so that swanctl.conf can carry
// it: a section name there may not hold '.', ':' or '='.
std::string name_part(const std::string& address_name) {
  std::string out = address_name;
  for (char& c : out)
    if (c == '.' || c == ':') c = '_';
  return out;
}

std::string endpoint_part(const compiler::Endpoint& e, std::uint8_t proto, std::uint16_t port) {
  std::string out = name_part(e.name);
  if (proto != 0 || port != 0)
    out += "[" + (proto != 0 ? std::to_string(proto) : std::string("any")) +
           (port != 0 ? "/" + std::to_string(port) : std::string()) + "]";
  return out;
}

}  // namespace

CharonNames charon_names(const IkeEntry& r) {
  CharonNames n;
  if (r.peer) {
    n.connection = "peer-" + name_part(r.peer->name);
    if (r.local) n.connection += "-local-" + name_part(r.local->name);
  } else {
    n.connection = "peer-default";
  }
  if (r.sec_interface) {
    const std::string sec = "sec" + std::to_string(*r.sec_interface);
    n.child = "from-" + sec + "-to-" + sec;
  } else {
    n.child = "from-" + endpoint_part(r.src, r.proto, r.sport) + "-to-" +
              endpoint_part(r.dst, r.proto, r.dport);
  }
  return n;
}

namespace {

// Lower address first; only meaningful within one family.
bool address_less(const compiler::IpAddress& a, const compiler::IpAddress& b) {
  return a.bytes < b.bytes;
}

struct Group {
  ViciConnection connection;
  IkeVersion version = IkeVersion::V1;  // of its first rule: all must agree
  ViciSection ike;  // connection settings, children added last
  ViciSection children;
  bool initiates = false;  // some child is active or dynamic
  bool dpd = false;        // some child is dynamic
  std::vector<std::string> local_ts, remote_ts;  // of every child
  std::optional<compiler::IpAddress> peer;
  std::optional<compiler::IpAddress> local;
};

// Why strongSwan cannot take the rule, beyond what OpenBSD refuses.
std::optional<std::string> refusal(const IkeEntry& r, const compiler::IkePolicy& policy) {
  if (policy.refusal) return policy.refusal->message;
  if (r.src.nat) return std::string("NAT hosts (from A (B)) have no strongSwan equivalent");
  if (r.sec_interface && *r.sec_interface == 0)
    return std::string("interface sec0 cannot be expressed: XFRM interface id 0 means none; use "
                       "sec1 or above");
  if (!r.peer && r.mode != IkeMode::Passive)
    return std::string("an active or dynamic ike rule needs a peer for strongSwan to initiate to");
  const compiler::IkePhase2Policy& p2 = policy.phase2;
  if (p2.auth != nullptr && p2.auth->strongswan.empty())
    return std::string(p2.auth->name) + " has no strongSwan equivalent for esp/ah";
  if (p2.enc != nullptr && p2.enc->strongswan.empty())
    return "cipher " + std::string(p2.enc->name) + " has no strongSwan name";
  return std::nullopt;
}

// The IKE (phase 1) proposal: enc-integ-group, where strongSwan takes the
// PRF from the integrity algorithm; an AEAD cipher (IKEv2 only) has no
// integrity algorithm, so `auth` names the PRF: enc-prfX-group.
std::string ike_proposal(const compiler::IkePhase1Policy& p1) {
  const std::string hash(p1.hash->strongswan);
  return std::string(p1.enc->strongswan) + "-" + (p1.enc->noauth ? "prf" + hash : hash) + "-" +
         std::string(p1.group->strongswan);
}

std::string version_value(IkeVersion v) {
  switch (v) {
    case IkeVersion::V1: return "1";
    case IkeVersion::V2: return "2";
    case IkeVersion::Any: return "0";  // charon: IKEv2 to start, either to answer
  }
  return "1";
}

// The child (phase 2) proposal; no group: no PFS.
std::string child_proposal(const compiler::IkePhase2Policy& p2) {
  std::string out;
  auto add = [&out](std::string_view part) {
    if (!out.empty()) out += "-";
    out += part;
  };
  if (p2.enc != nullptr) add(p2.enc->strongswan);
  if (p2.auth != nullptr) add(p2.auth->strongswan);
  if (p2.group != nullptr) add(p2.group->strongswan);
  return out;
}

// Phase 1 settings: the last rule for a peer wins, as with isakmpd's
// forced sets.
ViciSection ike_settings(const IkeEntry& r, const compiler::IkePolicy& policy,
                         const std::string& peer, const RuleKeys* rule_keys,
                         ViciConnection& c) {
  const long long life1 = policy.phase1.lifetime.value_or(compiler::kDefaultPhase1Lifetime);
  ViciSection ike{value("version", version_value(r.version))};
  if (r.version == IkeVersion::V2) {
    // IKEv2 negotiates no lifetime: each side rekeys its IKE SA in place
    // before its own limit. The rule's lifetime is the hard limit; the
    // rekey comes at 85-90% of it (a little jitter, so that two gateways
    // with the same file do not both start it at the same moment), and
    // nothing else changes hands: no mobility (MOBIKE) either, since the
    // rule names its addresses.
    ike.push_back(list("proposals", {ike_proposal(policy.phase1)}));
    ike.push_back(value("rekey_time", seconds(life1 - life1 / 10)));
    ike.push_back(value("over_time", seconds(life1 / 10)));
    ike.push_back(value("rand_time", seconds(life1 / 20)));
    ike.push_back(value("reauth_time", "0s"));
    ike.push_back(value("mobike", "no"));
  } else {
    ike.push_back(value("aggressive",
                        r.phase1.exchange == parser::Phase1Exchange::Aggressive ? "yes" : "no"));
    ike.push_back(list("proposals", {ike_proposal(policy.phase1)}));
    // IKEv1 puts reauth_time + over_time on the wire: exactly the rule's.
    ike.push_back(value("reauth_time", seconds(life1 - life1 / 10)));
    ike.push_back(value("over_time", seconds(life1 / 10)));
    ike.push_back(value("rekey_time", "0s"));
    ike.push_back(value("rand_time", "0s"));  // no jitter: the lifetime is the rule's
    if (r.version == IkeVersion::Any) ike.push_back(value("mobike", "no"));
  }
  if (r.local) ike.push_back(list("local_addrs", {compiler::format_address_hex(r.local->address)}));
  ike.push_back(list("remote_addrs", {peer}));
  const std::string auth = r.psk ? "psk" : "pubkey";
  ViciSection local{value("auth", auth)};
  ViciSection remote{value("auth", auth)};
  if (r.srcid) local.push_back(value("id", identity_text(r.srcid->text)));
  if (r.dstid) remote.push_back(value("id", identity_text(r.dstid->text)));
  c.key_files.clear();
  if (rule_keys != nullptr) add_keys(*rule_keys, local, remote, c);
  ike.push_back(section("local", local));
  ike.push_back(section("remote", remote));
  return ike;
}

// One child. Active and dynamic tunnels keep trap policies: whenever the
// tunnel is down (the peer was not there yet, or went away), traffic for
// it starts it again, for as long as the connection is loaded.
ViciSection child_settings(const IkeEntry& r, const compiler::IkePolicy& policy) {
  const long long life2 = policy.phase2.lifetime.value_or(compiler::kDefaultPhase2Lifetime);
  const bool starts = r.mode != IkeMode::Passive;
  ViciSection child{
      value("mode", r.tmode == parser::TunnelMode::Tunnel ? "tunnel" : "transport"),
      list("local_ts", selectors(r, r.src, r.sport)),
      list("remote_ts", selectors(r, r.dst, r.dport)),
      list(r.satype == SaType::Ah ? "ah_proposals" : "esp_proposals",
           {child_proposal(policy.phase2)}),
      value("life_time", seconds(life2)),
      value("rekey_time", seconds(life2 - life2 / 10)),
      value("rand_time", "0s"),
      value("start_action", starts ? "trap" : "none"),
      value("dpd_action", r.mode == IkeMode::Dynamic ? "restart"
                          : r.mode == IkeMode::Passive ? "clear" : "trap"),
      value("close_action", r.mode == IkeMode::Dynamic ? "restart"
                            : r.mode == IkeMode::Passive ? "none" : "trap")};
  if (r.sec_interface) {
    child.push_back(value("if_id_in", std::to_string(*r.sec_interface)));
    child.push_back(value("if_id_out", std::to_string(*r.sec_interface)));
  }
  return child;
}

// Adds a rule to the group (connection) of its phase 1.
void add_rule(Group& g, const IkeEntry& r, const compiler::IkePolicy& policy,
              const CharonNames& names, bool fresh, const RuleKeys* rule_keys) {
  ViciConnection& c = g.connection;
  if (fresh) {
    c.name = names.connection;
    c.version = r.version;
    c.origin = r.origin;
  }
  const bool starts = r.mode != IkeMode::Passive;
  g.initiates = g.initiates || starts;
  g.dpd = g.dpd || r.mode == IkeMode::Dynamic;
  if (r.peer) g.peer = r.peer->address;
  if (r.local) g.local = r.local->address;
  c.peer = r.peer ? compiler::format_address_hex(r.peer->address) : std::string("%any");
  c.local = g.local;
  c.remote = g.peer;
  g.ike = ike_settings(r, policy, c.peer, rule_keys, c);
  // Rules with the same phase 2 (the same networks twice, say, once as a
  // tunnel and once in transport) are one section to isakmpd, whose later
  // forced settings win; so they are one child here, the later rule's.
  // charon would keep two children of one name, and swanctl.conf one.
  ViciChild child{names.child, starts, r.sec_interface, r.origin};
  ViciItem settings = section(names.child, child_settings(r, policy));
  auto same = std::find_if(c.children.begin(), c.children.end(),
                           [&](const ViciChild& k) { return k.name == names.child; });
  if (same == c.children.end()) {
    g.local_ts.push_back(traffic_selector(r.src, r.proto, r.sport));
    g.remote_ts.push_back(traffic_selector(r.dst, r.proto, r.dport));
    g.children.push_back(std::move(settings));
    c.children.push_back(std::move(child));
  } else {
    const auto k = static_cast<std::size_t>(same - c.children.begin());
    g.local_ts[k] = traffic_selector(r.src, r.proto, r.sport);
    g.remote_ts[k] = traffic_selector(r.dst, r.proto, r.dport);
    g.children[k] = std::move(settings);
    *same = std::move(child);
  }
  if (r.psk) c.secret = secret_of(r, c.name);
}

// Whether this side starts the connection's tunnels at once (the other
// side of the pair then yields), from what both sides know alike: the
// networks, each side's local ones being the other's remote ones. Mirror
// images of one network fall back on the addresses; nullopt when nothing
// decides.
std::optional<bool> starts_first(const Group& g, const SourceAddressLookup& source_for) {
  std::vector<std::string> mine = g.local_ts, theirs = g.remote_ts;
  std::sort(mine.begin(), mine.end());
  std::sort(theirs.begin(), theirs.end());
  if (mine != theirs) return mine < theirs;
  std::optional<compiler::IpAddress> me = g.local;
  if (!me && g.peer && source_for) me = source_for(*g.peer);
  if (!me || !g.peer || me->family != g.peer->family || me->bytes == g.peer->bytes)
    return std::nullopt;
  return address_less(*me, *g.peer);
}

// The connection's load-conn message, once all its rules are in.
ViciConnection finish_group(Group& g, const SourceAddressLookup& source_for) {
  ViciSection body = g.ike;
  if (g.initiates) {
    // Retry for as long as the connection is loaded, as isakmpd does.
    body.push_back(value("keyingtries", "0"));
    // Which side starts at once (see the header): the traffic selectors,
    // the same pair seen from either end, decide.
    std::optional<bool> first = starts_first(g, source_for);
    body.push_back(value("unique", first.value_or(false) ? "replace" : "no"));
    g.connection.defer_start = first.has_value() && !*first;
  }
  body.push_back(value("dpd_delay", g.dpd ? "5s" : "0s"));
  body.push_back(section("children", g.children));
  g.connection.load_conn = {section(g.connection.name, body)};
  const std::vector<std::uint8_t> bytes = encode(g.connection.load_conn);
  g.connection.digest = digest_bytes(bytes.data(), bytes.size());
  return std::move(g.connection);
}

}  // namespace

std::optional<std::vector<ViciConnection>> translate(const compiler::Plan& plan, Diagnostics& diag,
                                                     const SourceAddressLookup& source_for,
                                                     keys::KeyDirectory* keys,
                                                     const InterfaceIdLookup& if_ids) {
  std::shared_ptr<const ViciPrivateKey> private_key;  // local.key, read once
  std::map<std::string, std::size_t> by_name;
  std::vector<Group> groups;
  bool refused = false;
  for (const IkeEntry& r : plan.ikes) {
    // What the rule means is the compiler's decision (ike_policy); what
    // OpenBSD refuses is refused here too.
    const compiler::IkePolicy policy = compiler::ike_policy(r);
    if (auto why = refusal(r, policy)) {
      diag.error_at(r.origin, *why);
      refused = true;
      continue;
    }
    if (r.tag)
      diag.warning_at(r.origin, "tag " + *r.tag + " is ignored: Linux has no PF tags",
                      "filter tunnel traffic with nftables (meta ipsec, ipsec in/out reqid)");
    const CharonNames names = charon_names(r);
    auto [it, fresh] = by_name.emplace(names.connection, groups.size());
    if (fresh) {
      groups.emplace_back();
      groups.back().version = r.version;
    } else if (groups[it->second].version != r.version) {
      // One connection (one IKE SA) speaks one version.
      const Group& g = groups[it->second];
      diag.error_at(r.origin,
                    "this rule speaks IKE version " + std::string(ike_version_text(r.version)) +
                        " but " + g.connection.name + " was set to version " +
                        std::string(ike_version_text(g.version)) + " by " +
                        diag.describe(g.connection.origin) +
                        ": the rules of one peer share one IKE SA, and one version",
                    "set ipsecctl_ike_version once before all the rules of this peer");
      refused = true;
      continue;
    }
    std::optional<RuleKeys> rule_keys;
    if (!r.psk && keys != nullptr) {
      rule_keys = keys_for(r, *keys, diag, source_for);
      if (!rule_keys) {
        refused = true;
        continue;
      }
      const keys::PemFile& k = rule_keys->local.private_key;
      if (!private_key)
        private_key = std::make_shared<const ViciPrivateKey>(ViciPrivateKey{
            k.path, rule_keys->local.key_type, k.pem, digest_bytes(k.pem.data(), k.pem.size())});
    }
    add_rule(groups[it->second], r, policy, names, fresh, rule_keys ? &*rule_keys : nullptr);
    if (rule_keys) groups[it->second].connection.private_key = private_key;
  }
  // An IKEv2 key without a dstid is owned by %any (see secret_of), as is
  // a key with neither peer nor dstid (a default secret), and charon looks
  // a key up by (local identity, %any) for every rule without a dstid,
  // IKEv1 ones included (those fall back to the addresses only when
  // nothing matched): once such a key exists, it is the one found for all
  // of them, so every key without a dstid must be that key.
  const auto any_owned = std::find_if(plan.ikes.begin(), plan.ikes.end(), [](const IkeEntry& r) {
    return r.psk && !r.dstid && (r.version != IkeVersion::V1 || !r.peer);
  });
  for (auto r = plan.ikes.begin(); any_owned != plan.ikes.end() && r != plan.ikes.end(); ++r) {
    if (r == any_owned || !r->psk || r->dstid || r->psk_text == any_owned->psk_text) continue;
    // plan.ikes is in rule order: the error goes to the later of the two.
    const IkeEntry& later = r > any_owned ? *r : *any_owned;
    const IkeEntry& earlier = r > any_owned ? *any_owned : *r;
    diag.error_at(later.origin,
                  "charon picks a pre-shared key by the peers' identities, and this rule and "
                  "the one at " + diag.describe(earlier.origin) +
                      " have different keys and no dstid to tell their peers apart",
                  std::string(any_owned->peer ? "give the IKEv2 rule" : "give the rule without a peer") +
                      " the dstid its peer shows (dstid ADDRESS for a peer that identifies "
                      "with its address), or the other rules theirs");
    refused = true;
  }
  if (refused) return std::nullopt;
  std::vector<ViciConnection> out;
  for (Group& g : groups) out.push_back(finish_group(g, source_for));
  if (plan.iked) {
    auto policies = translate_iked(*plan.iked, diag, source_for, keys, if_ids);
    if (!policies) return std::nullopt;
    for (ViciConnection& c : *policies) out.push_back(std::move(c));
  }
  return out;
}

}  // namespace ipsecctl::backends::vici
