// OpenBSD semantics in Linux terms: how one `flow` becomes SPD entries and
// one manual SA becomes a SAD entry. Shared by every kernel codec.
//
// Flows (OpenBSD keeps one SPD entry per direction; Linux needs more):
//   flow out from A to B peer P      -> policy dir out, selector A->B,
//                                       template src=local|any dst=P
//   flow in  from B to A peer P      -> policy dir in, selector B->A,
//                                       template src=P dst=local|any,
//                                       and the same as dir fwd when the
//                                       template is tunnel mode or the flow
//                                       is bypass/deny, so a gateway
//                                       forwards decrypted traffic.
//   type require  -> template required       type use    -> template optional
//   type bypass   -> allow, no template      type deny   -> block
//   type acquire / dontacq have no Linux equivalent: the rule is refused,
//   as is type use on an outbound esp/ah tunnel (the kernel refuses
//   optional tunnel-mode templates on outbound policies; outbound ipcomp,
//   whose default type is use, is required instead).
//   satype esp/ah/ipcomp/ipip -> template protocol 50/51/108/4. Inbound
//   ipcomp templates are optional because small packets travel
//   uncompressed, as RFC 3173 allows.
//
// Template mode: OpenBSD flows carry none (the SA has it); XFRM templates
// need one. It is taken from a manual SA of the same protocol towards the
// same peer in the plan when there is one; otherwise a flow between two
// single hosts whose peer is the destination itself is transport mode, and
// everything else tunnel mode.
//
// Precedence: OpenBSD picks the most specific matching flow. XFRM picks
// the lowest priority value, so priority = kPriorityBase - specificity,
// where specificity counts the selector bits fixed (both prefix lengths,
// 8 for a protocol, 16 per port).
//
// srcid/dstid only guide an IKE daemon answering an acquire; the kernel
// has no field for them and they do not change what the kernel does.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "backends/kernel_objects.h"
#include "compiler/plan.h"

namespace ipsecctl::backends {

constexpr std::uint32_t kPriorityBase = 0x8000;

// The canonical algorithm for a cipher family and key length: what a
// kernel dump can tell apart ("aes" with a 32-byte key is aes-256).
compiler::EncAlg canonical_enc(compiler::EncAlg alg, std::size_t key_bytes);
// Bits of integrity check value OpenBSD uses for each HMAC (RFC 2404,
// 4868: half the hash for SHA-2, 96 bits for the older ones).
std::uint32_t auth_trunc_bits(compiler::AuthAlg alg);
bool is_aead(compiler::EncAlg alg);

class PlanLowering {
 public:
  explicit PlanLowering(const compiler::Plan& plan);

  // Why the rule cannot be expressed, or nullopt.
  std::optional<std::string> check_flow(const compiler::FlowEntry& flow) const;
  std::optional<std::string> check_sa(const compiler::SaEntry& sa) const;

  // The policies for one (checked) flow: 1 or 2. Returns the count.
  std::size_t lower_flow(const compiler::FlowEntry& flow,
                         std::array<KernelPolicy, 2>& out) const;
  // One of them: `sub` as lower_flow() numbers them.
  KernelPolicy lower_policy(const compiler::FlowEntry& flow, std::uint8_t sub) const;
  // The same into `out`, whose template list keeps its storage: a load
  // lowers 3x10^5 policies, and a fresh list each is a malloc and a free.
  void lower_policy_into(const compiler::FlowEntry& flow, std::uint8_t sub,
                         KernelPolicy& out) const;
  KernelState lower_sa(const compiler::SaEntry& sa) const;

 private:
  TunnelMode mode_for(const compiler::FlowEntry& flow, const IpAddress& peer) const;

  struct ModeKey {
    std::uint8_t ipproto;
    IpAddress dst;
    friend auto operator<=>(const ModeKey& a, const ModeKey& b) {
      if (a.ipproto != b.ipproto) return a.ipproto <=> b.ipproto;
      if (a.dst.family != b.dst.family) return a.dst.family <=> b.dst.family;
      return a.dst.bytes <=> b.dst.bytes;
    }
  };
  // Manual SAs by (protocol, destination) and by (protocol, source): an
  // out flow's peer is an SA destination, an in flow's peer an SA source.
  std::map<ModeKey, TunnelMode> modes_by_dst_;
  std::map<ModeKey, TunnelMode> modes_by_src_;
};

}  // namespace ipsecctl::backends
