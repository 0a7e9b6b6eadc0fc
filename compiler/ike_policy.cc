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

// The checks of phase 1, in the order OpenBSD makes them.
std::optional<std::string> resolve_phase1(const IkeEntry& r, IkePhase1Policy& p) {
  p.exchange = r.phase1.exchange;
  p.psk = r.psk;
  p.lifetime = lifetime_of(r.phase1.lifetime_seconds);
  const TransformSet* xfs = r.phase1.transforms.get();
  p.enc = xfs != nullptr && xfs->enc != nullptr ? xfs->enc : &enc_transform(EncAlg::Aes);
  if (!p.enc->phase1) return "illegal transform " + std::string(p.enc->name);
  p.hash = xfs != nullptr && xfs->auth != nullptr ? xfs->auth : &auth_transform(AuthAlg::HmacSha1);
  if (p.hash->isakmpd_hash.empty()) return "illegal transform " + std::string(p.hash->name);
  p.group = xfs != nullptr && xfs->group != nullptr ? xfs->group
                                                     : &group_transform(GroupId::Modp3072);
  if (p.group->isakmpd_name.empty()) return "illegal group " + std::string(p.group->name);
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
    if (r.satype != SaType::Esp || xfs->enc->isakmpd_name.empty())
      return refuse(xfs->enc->name, "illegal transform ");
    p.enc = xfs->enc;
    // Combined-mode ciphers authenticate by themselves; so does nothing
    // with the null cipher, as OpenBSD has it.
    needs_auth = !p.enc->noauth && p.enc->id != EncAlg::Null;
  } else if (r.satype == SaType::Esp) {
    p.enc = &enc_transform(EncAlg::Aes);
  }
  if (xfs != nullptr && xfs->auth != nullptr) {
    if (xfs->auth->isakmpd_auth.empty()) return refuse(xfs->auth->name, "illegal transform ");
    p.auth = xfs->auth;
  } else if (needs_auth) {
    p.auth = &auth_transform(AuthAlg::HmacSha2_256);
  }
  if (xfs != nullptr && xfs->group != nullptr) {
    if (xfs->group->id == GroupId::None) {
      p.group = nullptr;
    } else if (xfs->group->isakmpd_name.empty()) {
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
