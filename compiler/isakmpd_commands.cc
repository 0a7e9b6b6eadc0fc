#include "compiler/isakmpd_commands.h"

#include <cstdio>

namespace ipsecctl::compiler {

namespace {

// Dead peer detection settings that `ike dynamic` turns on.
constexpr int kDynamicCheckInterval = 30;
constexpr int kDynamicDpdCheckInterval = 5;

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  // "C set [section]:tag=value force"
  void set(const std::string& section, const std::string& tag, const std::string& value) {
    out_ += "C set [" + section + "]:" + tag + "=" + value + " force\n";
  }
  void add_forced(const std::string& section, const std::string& tag, const std::string& value) {
    out_ += "C add [" + section + "]:" + tag + "=" + value + " force\n";
  }
  void line(const std::string& text) { out_ += text + "\n"; }

 private:
  std::string& out_;
};

std::string name_before_slash(const std::string& name) {
  auto slash = name.rfind('/');
  return slash == std::string::npos ? name : name.substr(0, slash);
}

struct Cipher {
  const char* name;        // isakmpd algorithm name
  const char* key_length;  // KEY_LENGTH value, or null
  bool needs_auth = true;
};

std::optional<Cipher> phase2_cipher(const EncTransform* enc) {
  if (enc == nullptr) return Cipher{"AES", "128,128:256"};
  switch (enc->id) {
    case EncAlg::TripleDesCbc: return Cipher{"3DES", nullptr};
    case EncAlg::Aes: return Cipher{"AES", "128,128:256"};
    case EncAlg::Aes128: return Cipher{"AES", "128,128:128"};
    case EncAlg::Aes192: return Cipher{"AES", "192,192:192"};
    case EncAlg::Aes256: return Cipher{"AES", "256,256:256"};
    case EncAlg::AesCtr:
    case EncAlg::Aes128Ctr: return Cipher{"AES_CTR", "128,128:128"};
    case EncAlg::Aes192Ctr: return Cipher{"AES_CTR", "192,192:192"};
    case EncAlg::Aes256Ctr: return Cipher{"AES_CTR", "256,256:256"};
    case EncAlg::Aes128Gcm: return Cipher{"AES_GCM_16", "128,128:128", false};
    case EncAlg::Aes192Gcm: return Cipher{"AES_GCM_16", "192,192:192", false};
    case EncAlg::Aes256Gcm: return Cipher{"AES_GCM_16", "256,256:256", false};
    case EncAlg::Aes128Gmac: return Cipher{"AES_GMAC", "128,128:128", false};
    case EncAlg::Aes192Gmac: return Cipher{"AES_GMAC", "192,192:192", false};
    case EncAlg::Aes256Gmac: return Cipher{"AES_GMAC", "256,256:256", false};
    case EncAlg::Blowfish: return Cipher{"BLOWFISH", "128,96:192"};
    case EncAlg::Cast128: return Cipher{"CAST", nullptr};
    case EncAlg::Null: return Cipher{"NULL", nullptr, false};
    default: return std::nullopt;
  }
}

// Phase 1 offers a subset of the phase 2 ciphers, under the same names.
std::optional<Cipher> phase1_cipher(const EncTransform* enc) {
  if (enc == nullptr) return phase2_cipher(nullptr);
  switch (enc->id) {
    case EncAlg::TripleDesCbc:
    case EncAlg::Aes:
    case EncAlg::Aes128:
    case EncAlg::Aes192:
    case EncAlg::Aes256:
    case EncAlg::Blowfish:
    case EncAlg::Cast128: return phase2_cipher(enc);
    default: return std::nullopt;
  }
}

std::optional<const char*> phase1_hash(const AuthTransform* auth) {
  if (auth == nullptr) return "SHA";
  switch (auth->id) {
    case AuthAlg::HmacMd5: return "MD5";
    case AuthAlg::HmacSha1: return "SHA";
    case AuthAlg::HmacSha2_256: return "SHA2_256";
    case AuthAlg::HmacSha2_384: return "SHA2_384";
    case AuthAlg::HmacSha2_512: return "SHA2_512";
    default: return std::nullopt;
  }
}

std::optional<const char*> phase2_auth(const AuthTransform* auth) {
  switch (auth->id) {
    case AuthAlg::HmacMd5: return "MD5";
    case AuthAlg::HmacRipemd160: return "RIPEMD";
    case AuthAlg::HmacSha1: return "SHA";
    case AuthAlg::HmacSha2_256: return "SHA2_256";
    case AuthAlg::HmacSha2_384: return "SHA2_384";
    case AuthAlg::HmacSha2_512: return "SHA2_512";
    default: return std::nullopt;
  }
}

// The part of a KEY_LENGTH value before its comma: AES + "128,128:256"
// gives AES128 in transform names.
std::string with_key_length(const Cipher& c) {
  std::string s = c.name;
  if (c.key_length != nullptr) {
    std::string kl = c.key_length;
    s += kl.substr(0, kl.find(','));
  }
  return s;
}

void write_lifetime(Writer& w, const std::string& transform,
                    const std::optional<long long>& seconds, const char* default_section) {
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
  return "UNKNOWN";
}

void write_identity(Writer& w, const std::string& p1, const char* tag, const Identity& id) {
  w.set(p1, tag, "id-" + id.text);
  w.set("id-" + id.text, "ID-type", id_type_name(id.type));
  bool address = id.type == IdType::Ipv4 || id.type == IdType::Ipv6;
  w.set("id-" + id.text, address ? "Address" : "Name", id.text);
}

void write_id_section(Writer& w, const std::string& section, const Endpoint& e) {
  const char* v = e.address.family == Family::Inet ? "4" : "6";
  if (e.network) {
    w.set(section, "ID-type", std::string("IPV") + v + "_ADDR_SUBNET");
    w.set(section, "Network", name_before_slash(e.name));
    w.set(section, "Netmask", format_mask(e.address));
  } else {
    w.set(section, "ID-type", std::string("IPV") + v + "_ADDR");
    w.set(section, "Address", name_before_slash(e.name));
  }
}

// OpenBSD numbers its SA types from 1 (esp) to 5 (ipip); messages show them.
int openbsd_satype_number(SaType t) {
  switch (t) {
    case SaType::Esp: return 1;
    case SaType::Ah: return 2;
    case SaType::Ipcomp: return 3;
    case SaType::Tcpmd5: return 4;
    case SaType::Ipip: return 5;
  }
  return 0;
}

}  // namespace

IsakmpdNames isakmpd_names(const IkeEntry& r) {
  IsakmpdNames n;
  if (r.peer) {
    n.phase1 = "peer-" + r.peer->name;
    if (r.local) n.phase1 += "-local-" + r.local->name;
  } else {
    n.phase1 = "peer-default";
  }
  std::string proto = r.proto != 0 ? "=" + std::to_string(r.proto) : "";
  std::string sport = r.sport != 0 ? ":" + std::to_string(r.sport) : "";
  std::string dport = r.dport != 0 ? ":" + std::to_string(r.dport) : "";
  if (r.sec_interface) {
    n.local_id = "from-sec" + std::to_string(*r.sec_interface);
    n.remote_id = "to-sec" + std::to_string(*r.sec_interface);
  } else {
    n.local_id = "from-" + r.src.name + proto + sport;
    n.remote_id = "to-" + r.dst.name + proto + dport;
  }
  n.phase2 = n.local_id + "-" + n.remote_id;
  if (r.src.nat) n.nat_id = "nat-" + r.src.nat->name + proto + sport;
  return n;
}

IsakmpdCommands isakmpd_add_commands(const IkeEntry& r) {
  IsakmpdCommands result;
  Writer w(result.text);
  const IsakmpdNames n = isakmpd_names(r);
  auto fail = [&](std::string message) {
    result.error = std::move(message);
    return result;
  };

  // General settings and the peer.
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

  // Phase 1.
  w.set(n.phase1, "Configuration", "phase1-" + n.phase1);
  w.set("phase1-" + n.phase1, "EXCHANGE_TYPE",
        r.phase1.exchange == Phase1Exchange::Main ? "ID_PROT" : "AGGRESSIVE");
  const TransformSet* p1 = r.phase1.transforms.get();
  auto cipher1 = phase1_cipher(p1 ? p1->enc : nullptr);
  if (!cipher1) return fail("illegal transform " + std::string(p1->enc->name));
  auto hash1 = phase1_hash(p1 ? p1->auth : nullptr);
  if (!hash1) return fail("illegal transform " + std::string(p1->auth->name));
  std::string group1 = "MODP_3072";
  if (p1 != nullptr && p1->group != nullptr) {
    if (p1->group->isakmpd_name.empty()) return fail("illegal group " + std::string(p1->group->name));
    group1 = std::string(p1->group->isakmpd_name);
  }
  const char* method = r.psk ? "PRE_SHARED" : "RSA_SIG";
  std::string t1 = "phase1-transform-" + n.phase1 + "-" + method + "-" + *hash1 + "-" +
                   with_key_length(*cipher1) + "-" + group1;
  w.add_forced("phase1-" + n.phase1, "Transforms", t1);
  w.set(t1, "AUTHENTICATION_METHOD", method);
  w.set(t1, "HASH_ALGORITHM", *hash1);
  w.set(t1, "ENCRYPTION_ALGORITHM", std::string(cipher1->name) + "_CBC");
  if (cipher1->key_length != nullptr) w.set(t1, "KEY_LENGTH", cipher1->key_length);
  w.set(t1, "GROUP_DESCRIPTION", group1);
  write_lifetime(w, t1, r.phase1.lifetime_seconds, "LIFE_MAIN_MODE");

  // Identities.
  if (r.srcid) write_identity(w, n.phase1, "ID", *r.srcid);
  if (r.dstid) write_identity(w, n.phase1, "Remote-ID", *r.dstid);

  // Phase 2 connection.
  w.set(n.phase2, "Phase", "2");
  w.set(n.phase2, "ISAKMP-peer", n.phase1);
  w.set(n.phase2, "Configuration", "phase2-" + n.phase2);
  w.set(n.phase2, "Local-ID", n.local_id);
  if (!n.nat_id.empty()) w.set(n.phase2, "NAT-ID", n.nat_id);
  w.set(n.phase2, "Remote-ID", n.remote_id);
  if (r.tag) w.set(n.phase2, "PF-Tag", *r.tag);
  if (r.sec_interface) w.set(n.phase2, "Interface", std::to_string(*r.sec_interface));

  // Phase 2.
  w.set("phase2-" + n.phase2, "EXCHANGE_TYPE", "QUICK_MODE");
  w.set("phase2-" + n.phase2, "Suites", "phase2-suite-" + n.phase2);
  if (r.satype != SaType::Esp && r.satype != SaType::Ah)
    return fail("illegal satype " + std::to_string(openbsd_satype_number(r.satype)));
  w.set("phase2-suite-" + n.phase2, "Protocols", "phase2-protocol-" + n.phase2);
  w.set("phase2-protocol-" + n.phase2, "PROTOCOL_ID",
        r.satype == SaType::Esp ? "IPSEC_ESP" : "IPSEC_AH");

  const TransformSet* p2 = r.phase2.transforms.get();
  std::optional<Cipher> cipher2;
  bool needs_auth = true;
  if (p2 != nullptr && p2->enc != nullptr) {
    if (r.satype != SaType::Esp) return fail("illegal transform " + std::string(p2->enc->name));
    cipher2 = phase2_cipher(p2->enc);
    if (!cipher2) return fail("illegal transform " + std::string(p2->enc->name));
    needs_auth = cipher2->needs_auth;
  } else if (r.satype == SaType::Esp) {
    cipher2 = phase2_cipher(nullptr);
  }
  std::optional<std::string> auth2;
  if (p2 != nullptr && p2->auth != nullptr) {
    auto a = phase2_auth(p2->auth);
    if (!a) return fail("illegal transform " + std::string(p2->auth->name));
    auth2 = *a;
  } else if (needs_auth) {
    auth2 = "SHA2_256";
  }
  std::optional<std::string> group2 = std::string("MODP_3072");
  if (p2 != nullptr && p2->group != nullptr) {
    if (p2->group->id == GroupId::None)
      group2.reset();
    else if (p2->group->isakmpd_name.empty())
      return fail("illegal group " + std::string(p2->group->name));
    else
      group2 = std::string(p2->group->isakmpd_name);
  }
  const char* encap = r.tmode == TunnelMode::Tunnel ? "TUNNEL" : "TRANSPORT";
  std::string t2 = "phase2-transform-" + n.phase2 + "-" +
                   (cipher2 ? with_key_length(*cipher2) : "NONE") + "-" + auth2.value_or("NONE") +
                   "-" + group2.value_or("NONE") + "-" + encap;
  w.set("phase2-protocol-" + n.phase2, "Transforms", t2);
  w.set(t2, "TRANSFORM_ID", r.satype == SaType::Ah ? auth2.value_or("NONE") : cipher2->name);
  if (cipher2 && cipher2->key_length != nullptr) w.set(t2, "KEY_LENGTH", cipher2->key_length);
  w.set(t2, "ENCAPSULATION_MODE", encap);
  if (auth2) w.set(t2, "AUTHENTICATION_ALGORITHM", "HMAC_" + *auth2);
  if (group2) w.set(t2, "GROUP_DESCRIPTION", *group2);
  write_lifetime(w, t2, r.phase2.lifetime_seconds, "LIFE_QUICK_MODE");

  // Phase 2 IDs.
  write_id_section(w, n.local_id, r.src);
  if (r.src.nat) write_id_section(w, n.nat_id, *r.src.nat);
  write_id_section(w, n.remote_id, r.dst);
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
  const IsakmpdNames n = isakmpd_names(r);
  w.line("t " + n.phase2);
  w.line(std::string("C rmv [Phase 2]:") +
         (r.mode == IkeMode::Passive ? "Passive-Connections=" : "Connections=") + n.phase2);
  w.line("C rms [" + n.phase2 + "]");
  w.line("C rms [phase2-" + n.phase2 + "]");
  return result;
}

}  // namespace ipsecctl::compiler
