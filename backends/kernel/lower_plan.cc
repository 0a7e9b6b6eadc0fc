#include "backends/kernel/lower_plan.h"

#include <cstdio>

namespace ipsecctl::backends {

using compiler::AuthAlg;
using compiler::EncAlg;
using compiler::FlowEntry;
using compiler::SaEntry;
using parser::Direction;
using parser::FlowType;

EncAlg canonical_enc(EncAlg alg, std::size_t key_bytes) {
  switch (alg) {
    case EncAlg::Aes: case EncAlg::Aes128: case EncAlg::Aes192: case EncAlg::Aes256:
      return key_bytes == 24 ? EncAlg::Aes192 : key_bytes == 32 ? EncAlg::Aes256 : EncAlg::Aes;
    case EncAlg::AesCtr: case EncAlg::Aes128Ctr: case EncAlg::Aes192Ctr: case EncAlg::Aes256Ctr:
      return key_bytes == 28 ? EncAlg::Aes192Ctr
             : key_bytes == 36 ? EncAlg::Aes256Ctr : EncAlg::AesCtr;
    case EncAlg::Aes128Gcm: case EncAlg::Aes192Gcm: case EncAlg::Aes256Gcm:
      return key_bytes == 28 ? EncAlg::Aes192Gcm
             : key_bytes == 36 ? EncAlg::Aes256Gcm : EncAlg::Aes128Gcm;
    case EncAlg::Aes128Gmac: case EncAlg::Aes192Gmac: case EncAlg::Aes256Gmac:
      return key_bytes == 28 ? EncAlg::Aes192Gmac
             : key_bytes == 36 ? EncAlg::Aes256Gmac : EncAlg::Aes128Gmac;
    default:
      return alg;
  }
}

std::uint32_t auth_trunc_bits(AuthAlg alg) {
  switch (alg) {
    case AuthAlg::HmacSha2_256: return 128;
    case AuthAlg::HmacSha2_384: return 192;
    case AuthAlg::HmacSha2_512: return 256;
    default: return 96;
  }
}

bool is_aead(EncAlg alg) {
  switch (alg) {
    case EncAlg::Aes128Gcm: case EncAlg::Aes192Gcm: case EncAlg::Aes256Gcm:
    case EncAlg::Aes128Gmac: case EncAlg::Aes192Gmac: case EncAlg::Aes256Gmac:
    case EncAlg::Chacha20Poly1305:
      return true;
    default:
      return false;
  }
}

PlanLowering::PlanLowering(const compiler::Plan& plan) {
  for (const SaEntry& sa : plan.sas) {
    if (sa.satype == SaType::Tcpmd5) continue;
    modes_by_dst_.emplace(ModeKey{ipproto_of(sa.satype), sa.dst}, sa.tmode);
    modes_by_src_.emplace(ModeKey{ipproto_of(sa.satype), sa.src}, sa.tmode);
  }
}

std::optional<std::string> PlanLowering::check_flow(const FlowEntry& flow) const {
  if (flow.type == FlowType::Acquire || flow.type == FlowType::DontAcq)
    return std::string("flow type ") + (flow.type == FlowType::Acquire ? "acquire" : "dontacq") +
           " has no Linux XFRM equivalent (use require, use, bypass or deny)";
  if (flow.satype == SaType::Tcpmd5)
    return std::string("tcpmd5 flows have no Linux XFRM equivalent");
  if (flow.type == FlowType::Use && flow.direction == Direction::Out &&
      flow.satype != SaType::Ipcomp &&
      mode_for(flow, flow.peer ? *flow.peer : IpAddress{}) == TunnelMode::Tunnel)
    return std::string("flow type use has no Linux equivalent for outbound tunnel-mode "
                       "traffic (the kernel refuses optional tunnel templates there); "
                       "use type require");
  return std::nullopt;
}

std::optional<std::string> PlanLowering::check_sa(const SaEntry& sa) const {
  if (sa.satype == SaType::Tcpmd5)
    return std::string("tcpmd5 SAs cannot be installed through XFRM on Linux: TCP MD5 keys "
                       "belong to sockets (TCP_MD5SIG)");
  return std::nullopt;
}

TunnelMode PlanLowering::mode_for(const FlowEntry& flow, const IpAddress& peer) const {
  if (peer.family != Family::Unspec) {
    const auto& modes = flow.direction == Direction::Out ? modes_by_dst_ : modes_by_src_;
    auto it = modes.find(ModeKey{ipproto_of(flow.satype), peer});
    if (it != modes.end()) return it->second;
  }
  if (flow.satype == SaType::Ipip) return TunnelMode::Tunnel;
  // The far end of the flow: its destination for out, its source for in.
  const IpAddress& far = flow.direction == Direction::Out ? flow.dst : flow.src;
  const IpAddress& near = flow.direction == Direction::Out ? flow.src : flow.dst;
  const bool hosts = far.full_length() && near.full_length();
  const bool peer_is_far = peer.family == Family::Unspec ||
                           (peer.bytes == far.bytes && peer.family == far.family);
  return hosts && peer_is_far ? TunnelMode::Transport : TunnelMode::Tunnel;
}

std::size_t PlanLowering::lower_flow(const FlowEntry& flow,
                                     std::array<KernelPolicy, 2>& out) const {
  lower_policy_into(flow, 0, out[0]);
  const KernelPolicy& p = out[0];
  const bool tunnel = !p.templates.empty() && p.templates[0].mode == TunnelMode::Tunnel;
  if (p.dir == PolicyDir::In && (tunnel || p.templates.empty())) {
    out[1] = p;
    out[1].dir = PolicyDir::Fwd;
    return 2;
  }
  return 1;
}

KernelPolicy PlanLowering::lower_policy(const FlowEntry& flow, std::uint8_t sub) const {
  KernelPolicy p;
  lower_policy_into(flow, sub, p);
  return p;
}

void PlanLowering::lower_policy_into(const FlowEntry& flow, std::uint8_t sub,
                                     KernelPolicy& p) const {
  std::vector<PolicyTemplate> templates = std::move(p.templates);
  templates.clear();
  p = KernelPolicy{};
  p.templates = std::move(templates);
  p.selector.src = compiler::network_of(flow.src);
  p.selector.dst = compiler::network_of(flow.dst);
  p.selector.proto = flow.proto;
  p.selector.sport = flow.sport;
  p.selector.dport = flow.dport;
  p.dir = flow.direction == Direction::Out ? PolicyDir::Out : PolicyDir::In;
  p.priority = kPriorityBase - selector_specificity(p.selector);
  p.origin = flow.origin;
  p.nr = flow.nr;
  switch (flow.type) {
    case FlowType::Deny:
      p.block = true;
      break;
    case FlowType::Bypass:
      break;
    default: {
      PolicyTemplate t;
      t.ipproto = ipproto_of(flow.satype);
      IpAddress peer = flow.peer ? *flow.peer : IpAddress{};
      IpAddress local = flow.local ? *flow.local : IpAddress{};
      t.mode = mode_for(flow, peer);
      // Linux refuses optional tunnel-mode templates on outbound policies,
      // so outbound IPcomp (whose OpenBSD default type is use) is
      // required there; inbound it stays optional. See check_flow() for
      // esp/ah.
      t.optional = flow.direction == Direction::In
                       ? flow.type == FlowType::Use || flow.satype == SaType::Ipcomp
                       : flow.type == FlowType::Use &&
                             (t.mode == TunnelMode::Transport || flow.satype != SaType::Ipcomp);
      // Transport mode ignores the template's addresses when matching,
      // but they are kept so that `-s flow` shows the rule's peer.
      t.src = flow.direction == Direction::Out ? local : peer;
      t.dst = flow.direction == Direction::Out ? peer : local;
      p.templates.push_back(t);
      break;
    }
  }
  // The second policy of an inbound flow is its forward twin.
  if (sub == 1) p.dir = PolicyDir::Fwd;
}

KernelState PlanLowering::lower_sa(const SaEntry& sa) const {
  KernelState s;
  s.src = sa.src;
  s.dst = sa.dst;
  s.src.prefixlen = static_cast<std::uint8_t>(s.src.max_prefix());
  s.dst.prefixlen = static_cast<std::uint8_t>(s.dst.max_prefix());
  s.ipproto = ipproto_of(sa.satype);
  s.spi = sa.spi;
  s.mode = sa.satype == SaType::Ipip ? TunnelMode::Tunnel : sa.tmode;
  if (sa.auth != nullptr && sa.auth->id != AuthAlg::None) {
    s.auth = sa.auth->id;
    if (sa.authkey) s.auth_key = *sa.authkey;
    s.auth_trunc_bits = auth_trunc_bits(sa.auth->id);
  }
  if (sa.enc != nullptr && sa.enc->id != EncAlg::None) {
    if (sa.enckey) s.enc_key = *sa.enckey;
    s.enc = canonical_enc(sa.enc->id, s.enc_key.size());
    if (is_aead(*s.enc)) s.icv_bits = 128;
  }
  s.comp = sa.comp != nullptr;
  if (sa.udpencap) {
    s.encap_sport = 4500;
    s.encap_dport = sa.udpencap_port != 0 ? sa.udpencap_port : 4500;
  }
  s.any_inner_family = s.mode == TunnelMode::Tunnel && (s.ipproto == 50 || s.ipproto == 51);
  s.origin = sa.origin;
  s.nr = sa.nr;
  return s;
}

}  // namespace ipsecctl::backends
