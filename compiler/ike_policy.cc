#include "compiler/ike_policy.h"

namespace ipsecctl::compiler {

namespace {

// OpenBSD keeps lifetimes in an int where -1 means "not given".
std::optional<int> lifetime_of(const std::optional<long long>& seconds) {
  if (!seconds) return std::nullopt;
  const auto value = static_cast<int>(static_cast<std::uint32_t>(*seconds));
  if (value == -1) return std::nullopt;
  return value;
}

// Whether a daemon of this version has a name for the algorithm: isakmpd
// (IKEv1, also what an `any` rule must be) or strongSwan's IKEv2.
bool named(IkeVersion v, std::string_view isakmpd, std::string_view strongswan) {
  return v == IkeVersion::V2 ? !strongswan.empty() : !isakmpd.empty();
}

// The checks of phase 1, in the order OpenBSD makes them. IKEv2 has its
// own rules: an IKE SA may use AEAD ciphers (AES-GCM, ChaCha20-Poly1305;
// `auth` then names only the PRF) but needs a group, and has no
// aggressive mode.
std::optional<std::string> resolve_phase1(const IkeEntry& r, IkePhase1Policy& p) {
  const bool v2 = r.version == IkeVersion::V2;
  p.exchange = r.phase1.exchange;
  p.psk = r.psk;
  p.lifetime = lifetime_of(r.phase1.lifetime_seconds);
  if (v2 && r.phase1.exchange == Phase1Exchange::Aggressive)
    return std::string("aggressive mode is an IKEv1 exchange: IKEv2 has none (write main, or "
                       "make this rule IKEv1)");
  const TransformSet* xfs = r.phase1.transforms.get();
  p.enc = xfs != nullptr && xfs->enc != nullptr ? xfs->enc : &enc_transform(EncAlg::Aes);
  // GMAC authenticates without encrypting: an IKE SA must be encrypted.
  const bool gmac = p.enc->id == EncAlg::Aes128Gmac || p.enc->id == EncAlg::Aes192Gmac ||
                    p.enc->id == EncAlg::Aes256Gmac;
  const bool enc_ok =
      v2 ? !p.enc->strongswan.empty() && p.enc->id != EncAlg::Null && !gmac : p.enc->phase1;
  if (!enc_ok)
    return v2 ? std::string(p.enc->name) + " cannot protect an IKEv2 SA (use aes, aes-ctr, "
                                           "aes-gcm, chacha20-poly1305, 3des-cbc, blowfish "
                                           "or cast128)"
              : "illegal transform " + std::string(p.enc->name);
  p.hash = xfs != nullptr && xfs->auth != nullptr ? xfs->auth : &auth_transform(AuthAlg::HmacSha1);
  if (!named(r.version, p.hash->isakmpd_hash, p.hash->strongswan))
    return v2 ? std::string(p.hash->name) + " has no IKEv2 integrity or PRF transform"
              : "illegal transform " + std::string(p.hash->name);
  p.group = xfs != nullptr && xfs->group != nullptr ? xfs->group
                                                     : &group_transform(GroupId::Modp3072);
  if (!named(r.version, p.group->isakmpd_name, p.group->strongswan))
    return v2 && p.group->id == GroupId::None
               ? std::string("an IKEv2 SA needs a Diffie-Hellman group (group none is for quick "
                             "mode: no PFS)")
               : "illegal group " + std::string(p.group->name);
  return std::nullopt;
}

std::optional<IkeRefusal> resolve_phase2(const IkeEntry& r, IkePhase2Policy& p) {
  p.protocol = r.satype;
  p.mode = r.tmode;
  p.lifetime = lifetime_of(r.phase2.lifetime_seconds);
  if (r.satype != SaType::Esp && r.satype != SaType::Ah)
    return IkeRefusal{IkeRefusalStage::Phase2Protocol,
                      "illegal satype " + std::to_string(openbsd_satype_number(r.satype))};
  auto refuse = [](std::string_view name, const char* what) {
    return IkeRefusal{IkeRefusalStage::Phase2, std::string(what) + std::string(name)};
  };
  const TransformSet* xfs = r.phase2.transforms.get();
  bool needs_auth = true;
  if (xfs != nullptr && xfs->enc != nullptr) {
    if (r.satype != SaType::Esp ||
        !named(r.version, xfs->enc->isakmpd_name, xfs->enc->strongswan))
      return refuse(xfs->enc->name, "illegal transform ");
    p.enc = xfs->enc;
    // Combined-mode ciphers authenticate by themselves; so does nothing
    // with the null cipher, as OpenBSD has it.
    needs_auth = !p.enc->noauth && p.enc->id != EncAlg::Null;
  } else if (r.satype == SaType::Esp) {
    p.enc = &enc_transform(EncAlg::Aes);
  }
  if (xfs != nullptr && xfs->auth != nullptr) {
    if (!named(r.version, xfs->auth->isakmpd_auth, xfs->auth->strongswan))
      return refuse(xfs->auth->name, "illegal transform ");
    p.auth = xfs->auth;
  } else if (needs_auth) {
    p.auth = &auth_transform(AuthAlg::HmacSha2_256);
  }
  if (xfs != nullptr && xfs->group != nullptr) {
    if (xfs->group->id == GroupId::None) {
      p.group = nullptr;
    } else if (!named(r.version, xfs->group->isakmpd_name, xfs->group->strongswan)) {
      return refuse(xfs->group->name, "illegal group ");
    } else {
      p.group = xfs->group;
    }
  } else {
    p.group = &group_transform(GroupId::Modp3072);
  }
  return std::nullopt;
}

}  // namespace

IkeNames ike_names(const IkeEntry& r) {
  IkeNames n;
  if (r.peer) {
    n.phase1 = "peer-" + r.peer->name;
    if (r.local) n.phase1 += "-local-" + r.local->name;
  } else {
    n.phase1 = "peer-default";
  }
  const std::string proto = r.proto != 0 ? "=" + std::to_string(r.proto) : "";
  const std::string sport = r.sport != 0 ? ":" + std::to_string(r.sport) : "";
  const std::string dport = r.dport != 0 ? ":" + std::to_string(r.dport) : "";
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

IkePolicy ike_policy(const IkeEntry& r) {
  IkePolicy p;
  p.names = ike_names(r);
  if (auto refused = resolve_phase1(r, p.phase1)) {
    p.refusal = IkeRefusal{IkeRefusalStage::Phase1, *refused};
    return p;
  }
  p.refusal = resolve_phase2(r, p.phase2);
  return p;
}

}  // namespace ipsecctl::compiler
