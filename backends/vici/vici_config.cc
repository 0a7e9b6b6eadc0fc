#include "backends/vici/vici_config.h"

#include <map>

#include "compiler/ike_policy.h"

namespace ipsecctl::backends::vici {

using compiler::AuthAlg;
using compiler::EncAlg;
using compiler::GroupId;
using compiler::IkeEntry;
using parser::IkeMode;
using parser::SaType;

namespace {

std::string seconds(long long s) { return std::to_string(s) + "s"; }

// "ADDR/32" (the srcid extension) is the address itself to strongSwan.
std::string identity_text(const std::string& id) {
  auto slash = id.rfind('/');
  if (slash != std::string::npos &&
      (id.compare(slash, std::string::npos, "/32") == 0 ||
       id.compare(slash, std::string::npos, "/128") == 0))
    return id.substr(0, slash);
  return id;
}

std::string traffic_selector(const compiler::Endpoint& e, std::uint8_t proto, std::uint16_t port) {
  std::string ts = compiler::format_address(compiler::network_of(e.address)) + "/" +
                   std::to_string(e.address.prefixlen);
  if (proto != 0 || port != 0)
    ts += "[" + (proto != 0 ? std::to_string(proto) : std::string("%any")) +
          (port != 0 ? "/" + std::to_string(port) : std::string()) + "]";
  return ts;
}

struct Group {
  ViciConnection connection;
  ViciSection ike;       // connection settings, children added last
  ViciSection children;
  std::vector<std::string> owners;
};

void add_owner(std::vector<std::string>& owners, const std::string& id) {
  for (const auto& o : owners)
    if (o == id) return;
  owners.push_back(id);
}

}  // namespace

std::optional<std::vector<ViciConnection>> translate(const compiler::Plan& plan,
                                                     Diagnostics& diag) {
  std::map<std::string, std::size_t> by_name;
  std::vector<Group> groups;
  bool refused = false;
  auto refuse = [&](const IkeEntry& r, const std::string& why) {
    diag.error_at(r.origin, why);
    refused = true;
  };

  for (const IkeEntry& r : plan.ikes) {
    // What the rule means (algorithms, defaults, names) is the compiler's
    // decision; what OpenBSD refuses is refused here too.
    const compiler::IkePolicy policy = compiler::ike_policy(r);
    if (policy.refusal) {
      refuse(r, policy.refusal->message);
      continue;
    }
    if (r.tag) { refuse(r, "tag has no strongSwan equivalent (there is no PF on Linux)"); continue; }
    if (r.src.nat) { refuse(r, "NAT hosts (from A (B)) have no strongSwan equivalent"); continue; }
    if (r.sec_interface && *r.sec_interface == 0) {
      refuse(r, "interface sec0 cannot be expressed: XFRM interface id 0 means none; use sec1 "
                "or above");
      continue;
    }
    if (!r.peer && r.mode != IkeMode::Passive) {
      refuse(r, "an active or dynamic ike rule needs a peer for strongSwan to initiate to");
      continue;
    }
    const compiler::IkePhase1Policy& p1 = policy.phase1;
    const compiler::IkePhase2Policy& p2 = policy.phase2;
    if (p2.auth != nullptr && p2.auth->strongswan.empty()) {
      refuse(r, std::string(p2.auth->name) + " has no strongSwan equivalent for esp/ah");
      continue;
    }
    if (p2.enc != nullptr && p2.enc->strongswan.empty()) {
      refuse(r, "cipher " + std::string(p2.enc->name) + " has no strongSwan name");
      continue;
    }

    // The IKE (phase 1) proposal and the child (phase 2) one.
    const std::string proposal = std::string(p1.enc->strongswan) + "-" +
                                 std::string(p1.hash->strongswan) + "-" +
                                 std::string(p1.group->strongswan);
    std::string child_proposal;
    auto add = [&child_proposal](std::string_view part) {
      if (!child_proposal.empty()) child_proposal += "-";
      child_proposal += part;
    };
    if (p2.enc != nullptr) add(p2.enc->strongswan);
    if (p2.auth != nullptr) add(p2.auth->strongswan);
    if (p2.group != nullptr) add(p2.group->strongswan);

    const compiler::IkeNames& names = policy.names;
    auto [it, fresh] = by_name.emplace(names.phase1, groups.size());
    if (fresh) groups.emplace_back();
    Group& g = groups[it->second];
    ViciConnection& c = g.connection;
    if (fresh) {
      c.name = names.phase1;
      c.origin = r.origin;
    }
    // Phase 1 settings: the last rule for a peer wins, as with isakmpd's
    // forced sets.
    const long long life1 = p1.lifetime.value_or(compiler::kDefaultPhase1Lifetime);
    g.ike = {value("version", "1"),
             value("aggressive", r.phase1.exchange == parser::Phase1Exchange::Aggressive ? "yes" : "no"),
             list("proposals", {proposal}),
             // IKEv1 puts reauth_time + over_time on the wire: exactly the rule's.
             value("reauth_time", seconds(life1 - life1 / 10)),
             value("over_time", seconds(life1 / 10)),
             value("rekey_time", "0s"),
             value("rand_time", "0s"),  // no jitter: the lifetime is the rule's
             value("dpd_delay", r.mode == IkeMode::Dynamic ? "5s" : "0s")};
    if (r.local) g.ike.push_back(list("local_addrs", {compiler::format_address(r.local->address)}));
    g.ike.push_back(list("remote_addrs", {r.peer ? compiler::format_address(r.peer->address)
                                                 : std::string("%any")}));
    const std::string auth = r.psk ? "psk" : "pubkey";
    ViciSection local{value("auth", auth)};
    ViciSection remote{value("auth", auth)};
    if (r.srcid) local.push_back(value("id", identity_text(r.srcid->text)));
    if (r.dstid) remote.push_back(value("id", identity_text(r.dstid->text)));
    g.ike.push_back(section("local", local));
    g.ike.push_back(section("remote", remote));

    const long long life2 = p2.lifetime.value_or(compiler::kDefaultPhase2Lifetime);
    ViciSection child{
        value("mode", r.tmode == parser::TunnelMode::Tunnel ? "tunnel" : "transport"),
        list("local_ts", {traffic_selector(r.src, r.proto, r.sport)}),
        list("remote_ts", {traffic_selector(r.dst, r.proto, r.dport)}),
        list(r.satype == SaType::Ah ? "ah_proposals" : "esp_proposals", {child_proposal}),
        value("life_time", seconds(life2)),
        value("rekey_time", seconds(life2 - life2 / 10)),
        value("rand_time", "0s"),
        value("start_action", "none"),
        value("dpd_action", r.mode == IkeMode::Dynamic ? "restart"
                            : r.mode == IkeMode::Passive ? "clear" : "none"),
        value("close_action", r.mode == IkeMode::Dynamic ? "restart" : "none")};
    if (r.sec_interface) {
      child.push_back(value("if_id_in", std::to_string(*r.sec_interface)));
      child.push_back(value("if_id_out", std::to_string(*r.sec_interface)));
    }
    g.children.push_back(section(names.phase2, child));
    c.children.push_back(names.phase2);
    if (r.mode != IkeMode::Passive) c.children_to_start.push_back(names.phase2);

    if (r.psk) {
      c.has_secret = true;
      c.secret_id = "ipsecctl-" + names.phase1;
      if (r.srcid) add_owner(g.owners, identity_text(r.srcid->text));
      if (r.local) add_owner(g.owners, compiler::format_address(r.local->address));
      if (r.dstid) add_owner(g.owners, identity_text(r.dstid->text));
      if (r.peer) add_owner(g.owners, compiler::format_address(r.peer->address));
      c.load_shared = {value("id", c.secret_id), value("type", "IKE"), value("data", r.psk_text),
                       list("owners", g.owners)};
    }
  }
  if (refused) return std::nullopt;
  std::vector<ViciConnection> out;
  for (Group& g : groups) {
    ViciSection body = g.ike;
    body.push_back(section("children", g.children));
    g.connection.load_conn = {section(g.connection.name, body)};
    out.push_back(std::move(g.connection));
  }
  return out;
}

}  // namespace ipsecctl::backends::vici
