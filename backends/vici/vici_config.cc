#include "backends/vici/vici_config.h"

#include <map>

#include "compiler/isakmpd_commands.h"

namespace ipsecctl::backends::vici {

using compiler::AuthAlg;
using compiler::EncAlg;
using compiler::GroupId;
using compiler::IkeEntry;
using parser::IkeMode;
using parser::SaType;

namespace {

// isakmpd's defaults when a rule leaves a lifetime out.
constexpr long long kMainModeLifetime = 3600;
constexpr long long kQuickModeLifetime = 1200;

std::optional<std::string> enc_keyword(const compiler::EncTransform* enc) {
  if (enc == nullptr) return "aes128";
  switch (enc->id) {
    case EncAlg::TripleDesCbc: return "3des";
    case EncAlg::Aes: case EncAlg::Aes128: return "aes128";
    case EncAlg::Aes192: return "aes192";
    case EncAlg::Aes256: return "aes256";
    case EncAlg::AesCtr: case EncAlg::Aes128Ctr: return "aes128ctr";
    case EncAlg::Aes192Ctr: return "aes192ctr";
    case EncAlg::Aes256Ctr: return "aes256ctr";
    case EncAlg::Aes128Gcm: return "aes128gcm16";
    case EncAlg::Aes192Gcm: return "aes192gcm16";
    case EncAlg::Aes256Gcm: return "aes256gcm16";
    case EncAlg::Aes128Gmac: return "aes128gmac";
    case EncAlg::Aes192Gmac: return "aes192gmac";
    case EncAlg::Aes256Gmac: return "aes256gmac";
    case EncAlg::Blowfish: return "blowfish128";
    case EncAlg::Cast128: return "cast128";
    case EncAlg::Null: return "null";
    default: return std::nullopt;
  }
}

std::optional<std::string> integ_keyword(AuthAlg alg) {
  switch (alg) {
    case AuthAlg::HmacMd5: return "md5";
    case AuthAlg::HmacSha1: return "sha1";
    case AuthAlg::HmacSha2_256: return "sha256";
    case AuthAlg::HmacSha2_384: return "sha384";
    case AuthAlg::HmacSha2_512: return "sha512";
    default: return std::nullopt;
  }
}

std::optional<std::string> group_keyword(GroupId id) {
  switch (id) {
    case GroupId::Modp768: return "modp768";
    case GroupId::Modp1024: return "modp1024";
    case GroupId::Modp1536: return "modp1536";
    case GroupId::Modp2048: return "modp2048";
    case GroupId::Modp3072: return "modp3072";
    case GroupId::Modp4096: return "modp4096";
    case GroupId::Modp6144: return "modp6144";
    case GroupId::Modp8192: return "modp8192";
    case GroupId::Ecp256: return "ecp256";
    case GroupId::Ecp384: return "ecp384";
    case GroupId::Ecp521: return "ecp521";
    case GroupId::Ecp224: return "ecp224";
    case GroupId::Bp224: return "ecp224bp";
    case GroupId::Bp256: return "ecp256bp";
    case GroupId::Bp384: return "ecp384bp";
    case GroupId::Bp512: return "ecp512bp";
    default: return std::nullopt;
  }
}

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
    // What isakmpd itself refuses, strongSwan gets refused too.
    auto commands = compiler::isakmpd_add_commands(r);
    if (commands.error) {
      refuse(r, *commands.error);
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
    const compiler::TransformSet* p1 = r.phase1.transforms.get();
    const compiler::TransformSet* p2 = r.phase2.transforms.get();
    if (p2 != nullptr && p2->auth != nullptr && p2->auth->id == AuthAlg::HmacRipemd160) {
      refuse(r, "hmac-ripemd160 has no strongSwan equivalent for esp/ah");
      continue;
    }

    // The IKE (phase 1) proposal.
    std::string proposal = *enc_keyword(p1 ? p1->enc : nullptr) + "-" +
                           *integ_keyword(p1 && p1->auth ? p1->auth->id : AuthAlg::HmacSha1) +
                           "-" +
                           *group_keyword(p1 && p1->group ? p1->group->id : GroupId::Modp3072);
    // The child (phase 2) proposal.
    std::string child_proposal;
    bool needs_auth = true;
    if (r.satype == SaType::Esp) {
      auto enc = enc_keyword(p2 ? p2->enc : nullptr);
      if (!enc) { refuse(r, "cipher " + std::string(p2->enc->name) + " has no strongSwan name"); continue; }
      child_proposal = *enc;
      needs_auth = !(p2 && p2->enc && p2->enc->noauth) &&
                   !(p2 && p2->enc && p2->enc->id == EncAlg::Null);
    }
    if (p2 != nullptr && p2->auth != nullptr) {
      child_proposal += (child_proposal.empty() ? "" : "-") + *integ_keyword(p2->auth->id);
    } else if (needs_auth || r.satype == SaType::Ah) {
      child_proposal += (child_proposal.empty() ? "" : "-") + std::string("sha256");
    }
    if (!(p2 && p2->group && p2->group->id == GroupId::None))
      child_proposal += "-" + *group_keyword(p2 && p2->group ? p2->group->id : GroupId::Modp3072);

    const auto names = compiler::isakmpd_names(r);
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
    const long long life1 = r.phase1.lifetime_seconds.value_or(kMainModeLifetime);
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

    const long long life2 = r.phase2.lifetime_seconds.value_or(kQuickModeLifetime);
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
