#include "compiler/isakmpd_commands.h"

namespace ipsecctl::compiler {

namespace {

// Dead peer detection settings that `ike dynamic` turns on.
constexpr int kDynamicCheckInterval = 30;
constexpr int kDynamicDpdCheckInterval = 5;

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  // "C set [section]:tag=value force"
  void set(const std::string& section, const std::string& tag, std::string_view value) {
    out_ += "C set [" + section + "]:" + tag + "=";
    out_ += value;
    out_ += " force\n";
  }
  void add_forced(const std::string& section, const std::string& tag, const std::string& value) {
    out_ += "C add [" + section + "]:" + tag + "=" + value + " force\n";
  }
  void line(const std::string& text) { out_ += text + "\n"; }
  void raw(std::string_view text) { out_ += text; }

 private:
  std::string& out_;
};

std::string name_before_slash(const std::string& name) {
  auto slash = name.rfind('/');
  return slash == std::string::npos ? name : name.substr(0, slash);
}

// The part of a KEY_LENGTH value before its comma: AES + "128,128:256"
// gives AES128 in transform names.
std::string with_key_length(const EncTransform& enc) {
  std::string s(enc.isakmpd_name);
  const std::string_view kl = enc.isakmpd_key_length;
  s += kl.substr(0, kl.find(','));
  return s;
}

void write_lifetime(Writer& w, const std::string& transform, const std::optional<int>& seconds,
                    const char* default_section) {
  if (seconds) {
    w.set(transform, "Life", transform + "-life");
    w.set(transform + "-life", "LIFE_TYPE", "SECONDS");
    w.set(transform + "-life", "LIFE_DURATION", std::to_string(*seconds));
  } else {
    w.set(transform, "Life", default_section);
  }
}

const char* id_type_name(IdType type) {
  switch (type) {
    case IdType::Ipv4: return "IPV4_ADDR";
    case IdType::Ipv6: return "IPV6_ADDR";
    case IdType::Fqdn: return "FQDN";
    case IdType::UserFqdn: return "USER_FQDN";
    case IdType::Unknown: break;
  }
  return "";
}

void write_identity(Writer& w, const std::string& p1, const char* tag, const Identity& id) {
  w.set(p1, tag, "id-" + id.text);
  w.set("id-" + id.text, "ID-type", id_type_name(id.type));
  const bool address = id.type == IdType::Ipv4 || id.type == IdType::Ipv6;
  w.set("id-" + id.text, address ? "Address" : "Name", id.text);
}

void write_id_section(Writer& w, const std::string& section, const Endpoint& e, Family family) {
  const char* v = family == Family::Inet ? "4" : "6";
  if (e.network) {
    w.set(section, "ID-type", std::string("IPV") + v + "_ADDR_SUBNET");
    w.set(section, "Network", name_before_slash(e.name));
    w.set(section, "Netmask", format_mask(e.address));
  } else {
    w.set(section, "ID-type", std::string("IPV") + v + "_ADDR");
    w.set(section, "Address", name_before_slash(e.name));
  }
}

void write_peer(Writer& w, const IkeEntry& r, const IkeNames& n) {
  if (r.mode == IkeMode::Dynamic) {
    w.set("General", "Check-interval", std::to_string(kDynamicCheckInterval));
    w.set("General", "DPD-check-interval", std::to_string(kDynamicDpdCheckInterval));
  }
  if (r.peer)
    w.set("Phase 1", r.peer->name, n.phase1);
  else
    w.set("Phase 1", "Default", n.phase1);
  w.set(n.phase1, "Phase", "1");
  if (r.peer) w.set(n.phase1, "Address", r.peer->name);
  if (r.local) w.set(n.phase1, "Local-address", r.local->name);
  if (r.psk) w.set(n.phase1, "Authentication", r.psk_text);
}

void write_phase1(Writer& w, const IkePhase1Policy& p, const IkeNames& n) {
  const char* method = p.psk ? "PRE_SHARED" : "RSA_SIG";
  const std::string t1 = "phase1-transform-" + n.phase1 + "-" + method + "-" +
                         std::string(p.hash->isakmpd_hash) + "-" + with_key_length(*p.enc) + "-" +
                         std::string(p.group->isakmpd_name);
  w.add_forced("phase1-" + n.phase1, "Transforms", t1);
  w.set(t1, "AUTHENTICATION_METHOD", method);
  w.set(t1, "HASH_ALGORITHM", p.hash->isakmpd_hash);
  w.set(t1, "ENCRYPTION_ALGORITHM", std::string(p.enc->isakmpd_name) + "_CBC");
  if (!p.enc->isakmpd_key_length.empty()) w.set(t1, "KEY_LENGTH", p.enc->isakmpd_key_length);
  w.set(t1, "GROUP_DESCRIPTION", p.group->isakmpd_name);
  write_lifetime(w, t1, p.lifetime, "LIFE_MAIN_MODE");
}

void write_phase2(Writer& w, const IkePhase2Policy& p, const IkeNames& n) {
  const char* encap = p.mode == TunnelMode::Tunnel ? "TUNNEL" : "TRANSPORT";
  const std::string auth = p.auth != nullptr ? std::string(p.auth->isakmpd_auth) : "NONE";
  const std::string group = p.group != nullptr ? std::string(p.group->isakmpd_name) : "NONE";
  const std::string t2 = "phase2-transform-" + n.phase2 + "-" +
                         (p.enc != nullptr ? with_key_length(*p.enc) : "NONE") + "-" + auth +
                         "-" + group + "-" + encap;
  w.set("phase2-protocol-" + n.phase2, "Transforms", t2);
  if (p.protocol == SaType::Ah)
    w.set(t2, "TRANSFORM_ID", p.auth != nullptr ? p.auth->isakmpd_auth : "");
  else
    w.set(t2, "TRANSFORM_ID", p.enc->isakmpd_name);
  if (p.enc != nullptr && !p.enc->isakmpd_key_length.empty())
    w.set(t2, "KEY_LENGTH", p.enc->isakmpd_key_length);
  w.set(t2, "ENCAPSULATION_MODE", encap);
  if (p.auth != nullptr) w.set(t2, "AUTHENTICATION_ALGORITHM", "HMAC_" + auth);
  if (p.group != nullptr) w.set(t2, "GROUP_DESCRIPTION", group);
  write_lifetime(w, t2, p.lifetime, "LIFE_QUICK_MODE");
}

}  // namespace

IsakmpdCommands isakmpd_add_commands(const IkeEntry& r) {
  IsakmpdCommands result;
  Writer w(result.text);
  const IkePolicy policy = ike_policy(r);
  const IkeNames& n = policy.names;
  const auto refused_at = [&](IkeRefusalStage stage) {
    return policy.refusal && policy.refusal->stage == stage;
  };

  write_peer(w, r, n);
  w.set(n.phase1, "Configuration", "phase1-" + n.phase1);
  w.set("phase1-" + n.phase1, "EXCHANGE_TYPE",
        policy.phase1.exchange == Phase1Exchange::Main ? "ID_PROT" : "AGGRESSIVE");
  if (refused_at(IkeRefusalStage::Phase1)) {
    result.error = policy.refusal->message;
    return result;
  }
  write_phase1(w, policy.phase1, n);

  if (r.srcid) write_identity(w, n.phase1, "ID", *r.srcid);
  if (r.dstid) write_identity(w, n.phase1, "Remote-ID", *r.dstid);

  w.set(n.phase2, "Phase", "2");
  w.set(n.phase2, "ISAKMP-peer", n.phase1);
  w.set(n.phase2, "Configuration", "phase2-" + n.phase2);
  w.set(n.phase2, "Local-ID", n.local_id);
  if (!n.nat_id.empty()) w.set(n.phase2, "NAT-ID", n.nat_id);
  w.set(n.phase2, "Remote-ID", n.remote_id);
  if (r.tag) w.set(n.phase2, "PF-Tag", *r.tag);
  if (r.sec_interface) w.set(n.phase2, "Interface", std::to_string(*r.sec_interface));

  w.set("phase2-" + n.phase2, "EXCHANGE_TYPE", "QUICK_MODE");
  w.set("phase2-" + n.phase2, "Suites", "phase2-suite-" + n.phase2);
  w.set("phase2-suite-" + n.phase2, "Protocols", "phase2-protocol-" + n.phase2);
  // OpenBSD writes the start of this line before it looks at the SA type.
  w.raw("C set [phase2-protocol-" + n.phase2 + "]:PROTOCOL_ID=");
  if (refused_at(IkeRefusalStage::Phase2Protocol)) {
    result.error = policy.refusal->message;
    return result;
  }
  w.raw(policy.phase2.protocol == SaType::Esp ? "IPSEC_ESP force\n" : "IPSEC_AH force\n");
  if (refused_at(IkeRefusalStage::Phase2)) {
    result.error = policy.refusal->message;
    return result;
  }
  write_phase2(w, policy.phase2, n);

  const Family family = r.src.address.family;
  write_id_section(w, n.local_id, r.src, family);
  if (r.src.nat) write_id_section(w, n.nat_id, *r.src.nat, family);
  write_id_section(w, n.remote_id, r.dst, r.dst.address.family);
  if (r.proto != 0) {
    w.set(n.local_id, "Protocol", std::to_string(r.proto));
    w.set(n.remote_id, "Protocol", std::to_string(r.proto));
  }
  if (r.sport != 0) w.set(n.local_id, "Port", std::to_string(r.sport));
  if (r.dport != 0) w.set(n.remote_id, "Port", std::to_string(r.dport));

  w.line(std::string("C add [Phase 2]:") +
         (r.mode == IkeMode::Passive ? "Passive-Connections=" : "Connections=") + n.phase2);
  return result;
}

IsakmpdCommands isakmpd_delete_commands(const IkeEntry& r) {
  IsakmpdCommands result;
  Writer w(result.text);
  const IkeNames n = ike_names(r);
  w.line("t " + n.phase2);
  w.line(std::string("C rmv [Phase 2]:") +
         (r.mode == IkeMode::Passive ? "Passive-Connections=" : "Connections=") + n.phase2);
  w.line("C rms [" + n.phase2 + "]");
  w.line("C rms [phase2-" + n.phase2 + "]");
  return result;
}

}  // namespace ipsecctl::compiler
