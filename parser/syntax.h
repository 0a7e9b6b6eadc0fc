// The syntax tree of one ipsec.conf statement, as the grammar builds it.
//
// The parser knows syntax only: words, numbers and their order. Whatever
// needs meaning (is this a host, a protocol, a valid transform?) is asked of
// the compiler through parser::Semantics at the moment OpenBSD's ipsecctl
// evaluates it, so errors come out in the same order and on the same lines.
// The compiler's answers travel in the tree as opaque handles; the parser
// stores and forwards them without looking inside.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ipsec_types.h"
#include "common/source_location.h"

namespace ipsecctl::compiler {
struct HostNode;       // a resolved host_spec (or `any`), owned by the compiler
struct TransformSet;   // auth/enc/comp/group choices of one rule part
struct KeyPair;        // key material for one direction and, maybe, its reverse
}  // namespace ipsecctl::compiler

namespace ipsecctl::parser {

using HostRef = std::shared_ptr<compiler::HostNode>;
using HostList = std::vector<HostRef>;
using TransformsRef = std::shared_ptr<compiler::TransformSet>;
using KeysRef = std::shared_ptr<compiler::KeyPair>;

using ::ipsecctl::Direction;
using ::ipsecctl::FlowType;
using ::ipsecctl::IkeMode;
using ::ipsecctl::Phase1Exchange;
using ::ipsecctl::SaType;
using ::ipsecctl::TunnelMode;
enum class TransformKind : std::uint8_t { Auth, Enc, Comp, Group };

// `from SRC [port P] to DST [port P]` (either order in the source text).
struct HostsClause {
  HostList src;
  std::uint16_t sport = 0;  // host byte order, 0 means "no port"
  HostList dst;
  std::uint16_t dport = 0;
  SourceSpan src_where, dst_where, sport_where, dport_where;
};

// `peer X`, `local Y`, both, or neither. `peer any` is a host too.
struct PeersClause {
  HostRef peer;
  HostRef local;
};

struct IdsClause {
  std::optional<std::string> srcid;
  std::optional<std::string> dstid;
};

// How the grammar carries the two largest clauses: every value on the
// parser's stack takes the size of the largest type, and each one is
// cleared when it is made, so a handle keeps every shift and reduction
// cheap. (Null `ids`: none were written.)
using HostsRef = std::shared_ptr<HostsClause>;
using IdsRef = std::shared_ptr<IdsClause>;

// `main|aggressive [transforms] [lifetime L]` or `quick [...]`.
struct PhaseClause {
  bool given = false;
  Phase1Exchange exchange = Phase1Exchange::Main;
  TransformsRef transforms;                 // null when none were written
  std::optional<long long> lifetime_seconds;
};

struct SpiClause {
  std::uint32_t out = 0;
  std::uint32_t in = 0;  // 0: no reverse SPI written
};

struct IkeRule {
  SourceSpan where;  // the whole statement
  std::optional<IkeMode> mode;
  std::optional<SaType> satype;
  std::optional<TunnelMode> tmode;
  int proto = 0;
  HostsClause hosts;
  std::optional<unsigned> sec_interface;  // `ike ... interface secN` form
  PeersClause peers;
  PhaseClause phase1;
  PhaseClause phase2;
  IdsClause ids;
  bool psk_given = false;
  std::string psk;
  std::optional<std::string> tag;
};

struct FlowRule {
  SourceSpan where;  // the whole statement
  std::optional<SaType> satype;
  std::optional<Direction> direction;
  int proto = 0;
  HostsClause hosts;
  PeersClause peers;
  IdsClause ids;
  std::optional<FlowType> type;
};

struct SaRule {
  SourceSpan where;  // the whole statement
  std::optional<SaType> satype;
  std::optional<TunnelMode> tmode;
  HostsClause hosts;
  SpiClause spi;
  bool udpencap = false;
  std::optional<long long> udpencap_port;
  TransformsRef transforms;
  KeysRef authkey;
  KeysRef enckey;
  std::optional<std::string> bundle;
};

struct Tcpmd5Rule {
  SourceSpan where;  // the whole statement
  HostsClause hosts;
  SpiClause spi;
  KeysRef authkey;
};

}  // namespace ipsecctl::parser
