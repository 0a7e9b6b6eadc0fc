// What compiling a configuration produces: flows (SPD entries), SAs (SAD
// entries), SA bundles and IKE policies, in the order they were written.
//
// A backend loads a plan; the printer prints it. Each entry remembers the
// rule (file:line) it came from so that a kernel or daemon error can name it.
// Flows are kept small because configurations of 100k rules are expected.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/address.h"
#include "compiler/iked/iked_config.h"
#include "compiler/transforms.h"
#include "common/diagnostics.h"
#include "parser/syntax.h"

namespace ipsecctl::compiler {

using parser::Direction;
using parser::FlowType;
using parser::IkeMode;
using parser::Phase1Exchange;
using parser::SaType;
using parser::TunnelMode;

enum class IdType : std::uint8_t { Unknown, Ipv4, Ipv6, Fqdn, UserFqdn };

struct Identity {
  std::string text;
  IdType type = IdType::Unknown;
};
IdType guess_id_type(const std::string& text);

// A host as written: its address, whether it denotes a network, and the
// name OpenBSD derives for it (used in IKE section names and messages).
struct Endpoint {
  IpAddress address;
  bool network = false;
  std::string name;
  std::shared_ptr<const Endpoint> nat;  // `HOST (NATHOST)`: the real network
};

// The value behind parser::HostRef: one host_spec, or `any`.
struct HostNode {
  bool any = false;
  std::vector<Endpoint> endpoints;
};

struct KeyPair {
  std::optional<std::vector<std::uint8_t>> out;
  std::optional<std::vector<std::uint8_t>> in;  // for the reverse SA
};

// In this order, 128 bytes: a plan of 10^5 rules holds 2x10^5 of them.
struct FlowEntry {
  SaType satype = SaType::Esp;
  Direction direction = Direction::Out;
  FlowType type = FlowType::Require;
  std::uint8_t proto = 0;
  std::uint16_t sport = 0;  // host byte order, 0 = any
  std::uint16_t dport = 0;
  SourceLocation origin;
  std::uint32_t nr = 0;
  IpAddress src;
  IpAddress dst;
  std::optional<IpAddress> local;
  std::optional<IpAddress> peer;
  std::shared_ptr<const Identity> srcid;
  std::shared_ptr<const Identity> dstid;
};

struct SaEntry {
  SaType satype = SaType::Esp;  // Tcpmd5 too
  TunnelMode tmode = TunnelMode::Tunnel;
  IpAddress src;
  IpAddress dst;
  std::uint32_t spi = 0;
  bool udpencap = false;
  std::uint16_t udpencap_port = 0;
  const AuthTransform* auth = nullptr;
  const EncTransform* enc = nullptr;
  const CompTransform* comp = nullptr;
  std::optional<std::vector<std::uint8_t>> authkey;
  std::optional<std::vector<std::uint8_t>> enckey;
  SourceLocation origin;
  std::uint32_t nr = 0;
};

struct BundleEntry {
  SaType satype1 = SaType::Esp;
  IpAddress dst1;
  std::uint32_t spi1 = 0;
  SaType satype2 = SaType::Esp;
  IpAddress dst2;
  std::uint32_t spi2 = 0;
  SourceLocation origin;
  std::uint32_t nr = 0;
};

struct IkePhase {
  Phase1Exchange exchange = Phase1Exchange::Main;
  std::shared_ptr<const TransformSet> transforms;  // null: all defaults
  std::optional<long long> lifetime_seconds;
};

struct IkeEntry {
  IkeMode mode = IkeMode::Active;
  SaType satype = SaType::Esp;
  TunnelMode tmode = TunnelMode::Tunnel;
  std::uint8_t proto = 0;
  std::uint16_t sport = 0;
  std::uint16_t dport = 0;
  Endpoint src;
  Endpoint dst;
  std::optional<Endpoint> peer;   // none: isakmpd's default peer
  std::optional<Endpoint> local;
  IkePhase phase1;
  IkePhase phase2;
  std::optional<Identity> srcid;
  std::optional<Identity> dstid;
  bool psk = false;
  std::string psk_text;
  std::optional<std::string> tag;
  std::optional<unsigned> sec_interface;
  IkeVersion version = IkeVersion::V1;
  SourceLocation origin;
  std::uint32_t nr = 0;
};

enum class RuleKind : std::uint8_t { Flow, Sa, Bundle, Ike };

struct RuleRef {
  RuleKind kind;
  std::uint32_t index;  // into the vector of that kind
};

// Deques: entries never move once added, and growing by 100k entries
// never needs the old and the new copy in memory at once.
struct Plan {
  std::deque<FlowEntry> flows;
  std::deque<SaEntry> sas;
  std::deque<BundleEntry> bundles;
  std::deque<IkeEntry> ikes;
  std::deque<RuleRef> order;  // every rule, in the order it was added
  // An iked.conf(5) (--iked): its users and IKEv2 policies, for the IKE
  // daemon; such a plan has no rules above.
  std::shared_ptr<const iked::Config> iked;

  bool has_iked() const { return iked && !iked->order.empty(); }
  // Anything for an IKE daemon: ike rules or iked policies.
  bool has_ike() const { return !ikes.empty() || has_iked(); }
  bool empty() const { return order.empty() && !has_iked(); }
};

}  // namespace ipsecctl::compiler
