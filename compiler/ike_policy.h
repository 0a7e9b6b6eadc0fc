// What an `ike` rule means, decided once for every IKE daemon.
//
// The compiler resolves each ike rule into an IkePolicy: the phase 1 and
// phase 2 algorithms with OpenBSD's defaults filled in, the lifetimes, the
// identities, and the names of its parts (phase 1 "peer-192.0.2.1",
// phase 2 "from-10.1.0.0/24-to-10.2.0.0/24", ...). Which algorithms are
// legal in which phase is decided here too: a rule OpenBSD's generator
// refuses carries an IkeRefusal, with the point at which OpenBSD stops
// writing (its `-nv` output shows the commands written up to there).
// A daemon backend is then only a translator: isakmpd spells a policy as
// fifo commands, VICI as strongSwan connections.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "compiler/plan.h"
#include "compiler/transforms.h"

namespace ipsecctl::compiler {

// Names of the parts of a rule. Rules that share a phase 1 (the same peer
// and local address) share its name; isakmpd and strongSwan both group by it.
struct IkeNames {
  std::string phase1;     // peer-<peer>[-local-<local>] or peer-default
  std::string local_id;   // from-<src>[=<proto>][:<port>]
  std::string remote_id;  // to-<dst>[=<proto>][:<port>]
  std::string nat_id;     // nat-<nat>...; empty without a NAT host
  std::string phase2;     // <local_id>-<remote_id>
};

struct IkePhase1Policy {
  Phase1Exchange exchange = Phase1Exchange::Main;
  bool psk = false;                      // else certificates (RSA signatures)
  const EncTransform* enc = nullptr;     // default: aes (128 bits, up to 256)
  const AuthTransform* hash = nullptr;   // default: hmac-sha1
  const GroupTransform* group = nullptr; // default: modp3072
  std::optional<int> lifetime;           // seconds; none: the daemon's default
};

struct IkePhase2Policy {
  SaType protocol = SaType::Esp;          // esp or ah
  const EncTransform* enc = nullptr;      // esp: default aes; ah: none
  const AuthTransform* auth = nullptr;    // none when the cipher authenticates
  const GroupTransform* group = nullptr;  // PFS group; none: no PFS
  TunnelMode mode = TunnelMode::Tunnel;
  std::optional<int> lifetime;
};

// Where OpenBSD's generator gives up on a rule, and what it says
// ("illegal transform aes-128-ctr").
enum class IkeRefusalStage : std::uint8_t {
  Phase1,          // after the phase 1 configuration and exchange type
  Phase2Protocol,  // in the middle of the PROTOCOL_ID line (satype)
  Phase2,          // after the PROTOCOL_ID line
};
struct IkeRefusal {
  IkeRefusalStage stage;
  std::string message;
};

struct IkePolicy {
  IkeNames names;
  IkePhase1Policy phase1;
  IkePhase2Policy phase2;
  std::optional<IkeRefusal> refusal;
};

// OpenBSD's defaults, where a daemon needs numbers (isakmpd's own
// LIFE_MAIN_MODE and LIFE_QUICK_MODE sections).
constexpr int kDefaultPhase1Lifetime = 3600;
constexpr int kDefaultPhase2Lifetime = 1200;

IkeNames ike_names(const IkeEntry& rule);
IkePolicy ike_policy(const IkeEntry& rule);

}  // namespace ipsecctl::compiler
