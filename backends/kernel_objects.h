// The kernel's IPsec databases in a wire-neutral form: security policies
// (SPD) and security associations (SAD). The XFRM and PF_KEY codecs both
// translate between these and their own messages, so lowering, diffing,
// rollback and `-s` printing are written once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compiler/address.h"
#include "compiler/transforms.h"
#include "common/diagnostics.h"
#include "common/ipsec_types.h"

namespace ipsecctl::backends {

using compiler::Family;
using compiler::IpAddress;
using ::ipsecctl::SaType;
using ::ipsecctl::TunnelMode;

// Linux numbers the directions this way (XFRM_POLICY_IN/OUT/FWD); PF_KEY
// codecs translate.
enum class PolicyDir : std::uint8_t { In = 0, Out = 1, Fwd = 2 };

// What a packet must look like for a policy to apply. Addresses are
// prefixes with their host bits cleared.
struct Selector {
  IpAddress src;
  IpAddress dst;
  std::uint8_t proto = 0;   // 0: any
  std::uint16_t sport = 0;  // host order, 0: any
  std::uint16_t dport = 0;
  friend bool operator==(const Selector&, const Selector&) = default;
};

// One transform a policy demands ("use ESP in tunnel mode to PEER").
struct PolicyTemplate {
  std::uint8_t ipproto = 0;  // 50 esp, 51 ah, 108 ipcomp, 4 ipip
  TunnelMode mode = TunnelMode::Tunnel;
  bool optional = false;     // `type use`: pass in clear when no SA exists
  IpAddress src;             // tunnel endpoints; family Unspec: any
  IpAddress dst;
  std::uint32_t reqid = 0;
  std::uint32_t spi = 0;
  friend bool operator==(const PolicyTemplate&, const PolicyTemplate&) = default;
};

struct KernelPolicy {
  Selector selector;
  PolicyDir dir = PolicyDir::Out;
  bool block = false;  // deny
  std::uint32_t priority = 0;
  std::vector<PolicyTemplate> templates;  // empty and !block: bypass
  // Set only on policies other tools installed; a policy with a mark, an
  // interface id or a security context is never one of ours.
  std::uint32_t mark = 0;
  std::uint32_t mark_mask = 0;
  std::uint32_t if_id = 0;
  bool has_security_context = false;
  std::uint32_t index = 0;  // kernel's, from dumps only
  SourceLocation origin;
  std::uint32_t nr = 0;
};

struct StateCounters {
  std::uint64_t bytes = 0;
  std::uint64_t packets = 0;
  std::uint64_t add_time = 0;  // seconds since the epoch
  std::uint64_t use_time = 0;
  std::uint32_t replay_window = 0;
  std::uint32_t replay_failures = 0;
  std::uint32_t integrity_failures = 0;
};

struct KernelState {
  IpAddress src;
  IpAddress dst;
  std::uint8_t ipproto = 50;
  std::uint32_t spi = 0;  // host order; for ipcomp the CPI
  TunnelMode mode = TunnelMode::Tunnel;
  std::uint32_t reqid = 0;
  std::optional<compiler::AuthAlg> auth;  // nullopt: no integrity transform
  std::vector<std::uint8_t> auth_key;
  std::uint32_t auth_trunc_bits = 0;
  std::optional<compiler::EncAlg> enc;    // AEAD ciphers too
  std::vector<std::uint8_t> enc_key;      // with salt/nonce for CTR/GCM
  std::uint32_t icv_bits = 0;             // AEAD only
  bool comp = false;                      // deflate
  std::uint16_t encap_sport = 0;          // UDP encapsulation, 0: none
  std::uint16_t encap_dport = 0;
  std::uint32_t replay_window = 0;
  bool any_inner_family = false;          // tunnel carrying v4 and v6
  std::uint32_t mark = 0;
  std::uint32_t if_id = 0;
  std::string unknown_auth;               // algorithm names we cannot map
  std::string unknown_enc;
  StateCounters counters;                 // dumps only
  SourceLocation origin;
  std::uint32_t nr = 0;
};

std::uint8_t ipproto_of(SaType type);
std::optional<SaType> satype_of(std::uint8_t ipproto);

// Identity: what the kernel uses to tell two entries apart (adding a second
// one with the same identity fails with EEXIST). Content: the rest.
struct Fingerprint {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  friend bool operator==(const Fingerprint&, const Fingerprint&) = default;
  friend auto operator<=>(const Fingerprint&, const Fingerprint&) = default;
};
Fingerprint policy_identity(const KernelPolicy& policy);
std::uint64_t policy_content(const KernelPolicy& policy);
Fingerprint state_identity(const KernelState& state);
std::uint64_t state_content(const KernelState& state);

// Mask bits a selector fixes; more bits win (see lower_plan.h).
unsigned selector_specificity(const Selector& selector);

}  // namespace ipsecctl::backends
