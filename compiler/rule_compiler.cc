#include "compiler/rule_compiler.h"

#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "compiler/ike_policy.h"
#include "compiler/compile_hints.h"
#include "compiler/keys.h"

namespace ipsecctl::compiler {

namespace {

constexpr int kTcp = 6;
constexpr int kUdp = 17;
constexpr std::uint32_t kSpiReservedMin = 1;
constexpr std::uint32_t kSpiReservedMax = 255;

Endpoint any_endpoint(Family family) {
  Endpoint e;
  e.address = any_address(family);
  e.network = true;
  e.name = family == Family::Inet ? "0.0.0.0/0" : "::/0";
  return e;
}

std::shared_ptr<const Identity> make_identity(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  return std::make_shared<const Identity>(Identity{*text, guess_id_type(*text)});
}

std::optional<Identity> identity_value(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  return Identity{*text, guess_id_type(*text)};
}

}  // namespace

IdType guess_id_type(const std::string& text) {
  if (parse_ipv4(text)) return IdType::Ipv4;
  if (parse_ipv6(text)) return IdType::Ipv6;
  if (text.find('@') != std::string::npos) return IdType::UserFqdn;
  return IdType::Fqdn;
}

struct RuleCompiler::SaTemplate {
  SaType satype = SaType::Esp;
  TunnelMode tmode = TunnelMode::Tunnel;
  std::uint32_t spi = 0;
  bool udpencap = false;
  std::uint16_t udpencap_port = 0;
  TransformSet xfs;
  bool has_xfs = true;
  std::optional<std::vector<std::uint8_t>> authkey;
  std::optional<std::vector<std::uint8_t>> enckey;
  std::optional<std::string> bundle;
};

RuleCompiler::RuleCompiler(Resolver& resolver, Diagnostics& diagnostics, Plan& plan,
                           RuleListener* listener)
    : resolver_(resolver), diag_(diagnostics), plan_(plan), listener_(listener) {}

// ---------------------------------------------------------------- hosts

// OpenBSD's host(): an interface (or group) name, else an IPv4 literal
// (with '/': a network, BSD inet_net_pton), else an IPv6 literal (maybe
// with a %scope), else -- only without a mask -- a name service lookup.
parser::HostRef RuleCompiler::host(const std::string& spec) {
  // OpenBSD's host() asks first whether the name is an interface group
  // (SIOCGIFGMEMB); the ioctl's failure leaves ENOTTY in errno, which a
  // later err() prints (see Diagnostics).
  diag_.set_reference_errno(ENOTTY);
  std::string bare = spec;
  long mask = -1;
  if (auto slash = spec.rfind('/'); slash != std::string::npos) {
    const std::string digits = spec.substr(slash + 1);
    errno = 0;
    char* end = nullptr;
    const long value = std::strtol(digits.c_str(), &end, 0);
    if (errno == ERANGE || end == digits.c_str() || *end != '\0' ||
        static_cast<int>(value) > 128)
      Diagnostics::fatal("host: invalid netmask '" + spec.substr(slash) + "'");
    // OpenBSD keeps it in an int.
    mask = static_cast<int>(value);
    bare = spec.substr(0, slash);
  }

  auto node = std::make_shared<HostNode>();
  auto fail = [&]() -> parser::HostRef {
    diag_.plain("no IP address found for " + spec);
    diag_.error("could not parse host specification", hints::bad_host(spec));
    return nullptr;
  };

  // An interface (or group) name stands for its addresses; each keeps the
  // interface's name, which is what IKE section names will show.
  if (auto addresses = resolver_.interface_addresses(bare); addresses && !addresses->empty()) {
    for (const auto& [address, interface] : *addresses)
      node->endpoints.push_back(Endpoint{address, false, interface, nullptr});
    return node;
  }
  // IPv4 keeps the name exactly as typed; a '/' makes it a network, even /32.
  const bool slashed = spec.find('/') != std::string::npos;
  if (auto v4 = slashed ? parse_ipv4_network(spec) : parse_ipv4(spec)) {
    node->endpoints.push_back(Endpoint{*v4, slashed, spec, nullptr});
    return node;
  }
  // IPv6 is named canonically, with "/len" only when len is not 128.
  if (mask >= -1) {
    if (auto v6 = parse_scoped_ipv6(bare)) {
      const int len = mask == -1 ? 128 : static_cast<int>(mask);
      v6->address.prefixlen = static_cast<std::uint8_t>(len);
      std::string name = format_address(v6->address) + v6->scope;
      if (len != 128) name += "/" + std::to_string(len);
      node->endpoints.push_back(Endpoint{v6->address, len != 128, name, nullptr});
      return node;
    }
  }
  // Names are looked up only when no mask was given, and never when the
  // word can only be a malformed address (no name server is asked about
  // "1.2.3.256" or "::g").
  if (mask == -1 && !slashed) {
    // OpenBSD's getaddrinfo still takes inet_aton's forms as addresses.
    if (auto legacy = parse_inet_aton(spec)) {
      node->endpoints.push_back(Endpoint{*legacy, false, format_address(*legacy), nullptr});
      return node;
    }
  }
  if (mask == -1 && !slashed && !looks_like_address(spec)) {
    for (const auto& a : resolver_.lookup_host(spec))
      node->endpoints.push_back(Endpoint{a, false, format_address(a), nullptr});
    if (!node->endpoints.empty()) return node;
  }
  return fail();
}

std::optional<RuleCompiler::ScopedAddress> RuleCompiler::parse_scoped_ipv6(
    const std::string& text) {
  const auto percent = text.find('%');
  if (percent == std::string::npos) {
    auto a = parse_ipv6(text);
    if (!a) return std::nullopt;
    return ScopedAddress{*a, {}};
  }
  auto a = parse_ipv6(std::string_view(text).substr(0, percent));
  const std::string scope = text.substr(percent + 1);
  if (!a || scope.empty()) return std::nullopt;
  // A scope is an interface name or number; the name shown is the
  // interface's for link-local addresses, else the number.
  std::optional<std::uint32_t> index;
  if (scope.find_first_not_of("0123456789") == std::string::npos) {
    errno = 0;
    const unsigned long long n = std::strtoull(scope.c_str(), nullptr, 10);
    if (errno == ERANGE || n > UINT32_MAX) return std::nullopt;
    index = static_cast<std::uint32_t>(n);
  } else {
    index = resolver_.interface_index(scope);
  }
  if (!index) return std::nullopt;
  const bool link_local = a->bytes[0] == 0xfe && (a->bytes[1] & 0xc0) == 0x80;
  std::string shown = std::to_string(*index);
  if (link_local)
    if (auto name = resolver_.interface_name(*index)) shown = *name;
  return ScopedAddress{*a, "%" + shown};
}

parser::HostRef RuleCompiler::any_host() {
  auto node = std::make_shared<HostNode>();
  node->any = true;
  return node;
}

bool RuleCompiler::attach_nat(const parser::HostRef& host, const parser::HostRef& nat) {
  if (host->endpoints.front().address.family != nat->endpoints.front().address.family) {
    diag_.error("Flow NAT address family mismatch");
    return false;
  }
  host->endpoints.front().nat = std::make_shared<const Endpoint>(nat->endpoints.front());
  return true;
}

bool RuleCompiler::check_destination(const parser::HostList& dst) {
  for (const auto& node : dst) {
    for (const auto& e : node->endpoints) {
      if (e.nat) {
        diag_.error("no flow NAT support for destination network: " + e.name);
        return false;
      }
    }
  }
  return true;
}

std::vector<Endpoint> RuleCompiler::expand_hosts(const parser::HostList& hosts) const {
  std::vector<Endpoint> out;
  for (const auto& node : hosts) {
    if (node->any) {
      out.push_back(any_endpoint(Family::Inet));
      out.push_back(any_endpoint(Family::Inet6));
    } else {
      out.insert(out.end(), node->endpoints.begin(), node->endpoints.end());
    }
  }
  return out;
}

bool RuleCompiler::families_match(const parser::HostList& src,
                                  const parser::HostList& dst) const {
  bool src4 = false, src6 = false, dst4 = false, dst6 = false;
  for (const auto& node : src) {
    if (node->any) return true;
    for (const auto& e : node->endpoints) (e.address.family == Family::Inet ? src4 : src6) = true;
  }
  for (const auto& node : dst) {
    if (node->any) return true;
    for (const auto& e : node->endpoints) (e.address.family == Family::Inet ? dst4 : dst6) = true;
  }
  return !(src4 != dst4 && src6 != dst6);
}

// ------------------------------------------------------ small values

std::optional<int> RuleCompiler::protocol(const std::string& name) {
  auto number = resolver_.protocol_number(name);
  if (!number) {
    diag_.error("unknown protocol: " + name, hinted([&] { return hints::unknown_protocol(name); }));
    return std::nullopt;
  }
  return *number;
}

std::optional<int> RuleCompiler::protocol(long long number) {
  if (number > 255 || number < 0) {
    diag_.error("protocol outside range", hinted([] {
      return std::string("a protocol number is 0 to 255");
    }));
    return std::nullopt;
  }
  return static_cast<int>(number);
}

std::optional<std::uint16_t> RuleCompiler::port(const std::string& name) {
  if (auto p = resolver_.service_port(name, "tcp")) return p;
  if (auto p = resolver_.service_port(name, "udp")) return p;
  if (auto p = resolver_.system_service_port(name, "tcp")) return p;
  if (auto p = resolver_.system_service_port(name, "udp")) return p;
  diag_.error("unknown port: " + name, hinted([&] { return hints::unknown_port(name); }));
  return std::nullopt;
}

std::optional<std::uint16_t> RuleCompiler::port(long long number) {
  if (number > 65535 || number < 0) {
    diag_.error("port outside range", hinted([] {
      return std::string("a port number is 0 to 65535");
    }));
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(number);
}

// OpenBSD's atospi(): strtoul(s, 0) over the whole word (C rules: 0x is
// hex, 0 octal, a sign is taken), then the 32-bit and reserved range checks.
std::optional<std::uint32_t> RuleCompiler::spi_word(const std::string& text) {
  errno = 0;
  char* end = nullptr;
  const unsigned long value = std::strtoul(text.c_str(), &end, 0);
  if (text.empty() || *end != '\0') return std::nullopt;  // no message of its own
  if (errno == ERANGE && value == ULONG_MAX) return std::nullopt;
  if (value > UINT32_MAX) {
    diag_.error(std::to_string(value) + " not a valid spi",
                hinted([] { return std::string("an SPI is 32 bits: at most 0xffffffff"); }));
    return std::nullopt;
  }
  if (value >= kSpiReservedMin && value <= kSpiReservedMax) {
    diag_.error(std::to_string(value) + " within reserved spi range",
                hinted([] { return std::string("SPIs 1 to 255 are reserved; use 256 or above"); }));
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(value);
}

std::optional<parser::SpiClause> RuleCompiler::spi(const std::string& text) {
  parser::SpiClause spi;
  std::string out = text;
  // The reverse SPI, after the first colon, is read first.
  if (auto colon = text.find(':'); colon != std::string::npos) {
    out = text.substr(0, colon);
    auto in = spi_word(text.substr(colon + 1));
    if (!in) return std::nullopt;
    spi.in = *in;
  }
  auto value = spi_word(out);
  if (!value) return std::nullopt;
  spi.out = *value;
  return spi;
}

std::optional<parser::SpiClause> RuleCompiler::spi(long long number) {
  if (number > static_cast<long long>(UINT32_MAX) || number < 0) {
    diag_.error(std::to_string(number) + " not a valid spi");
    return std::nullopt;
  }
  if (number >= kSpiReservedMin && number <= kSpiReservedMax) {
    diag_.error(std::to_string(number) + " within reserved spi range");
    return std::nullopt;
  }
  return parser::SpiClause{static_cast<std::uint32_t>(number), 0};
}

parser::TransformsRef RuleCompiler::new_transforms() { return std::make_shared<TransformSet>(); }

void RuleCompiler::add_transform(const parser::TransformsRef& set, parser::TransformKind kind,
                                 const std::string& name) {
  using K = parser::TransformKind;
  auto set_one = [&](auto& slot, auto* found, const char* what, char table) {
    if (slot != nullptr) {
      diag_.error(std::string(what) + " already set", hinted([&] {
        return "each of auth, enc, comp and group may be given once per phase";
      }));
      return;
    }
    slot = found;
    if (found == nullptr)
      diag_.error(name + " not a valid transform",
                  hinted([&] { return hints::bad_transform(table, name); }));
  };
  switch (kind) {
    case K::Auth: set_one(set->auth, find_auth(name), "auth", 'a'); break;
    case K::Enc: set_one(set->enc, find_enc(name), "enc", 'e'); break;
    case K::Comp: set_one(set->comp, find_comp(name), "comp", 'c'); break;
    case K::Group: set_one(set->group, find_group(name), "group", 'g'); break;
  }
}

std::vector<std::uint8_t> RuleCompiler::hex_key(const std::string& text) {
  return parse_hex_key(text, [this] { diag_.error("keys need to be specified in hex digits"); });
}

parser::KeysRef RuleCompiler::key_literal(const std::string& text) {
  auto keys = std::make_shared<KeyPair>();
  auto strip = [](std::string s) { return s.rfind("0x", 0) == 0 ? s.substr(2) : s; };
  std::string out = text;
  // The reverse key is read first, as OpenBSD does: its errors come first.
  if (auto colon = text.find(':'); colon != std::string::npos) {
    out = text.substr(0, colon);
    keys->in = hex_key(strip(text.substr(colon + 1)));
  }
  keys->out = hex_key(strip(out));
  return keys;
}

parser::KeysRef RuleCompiler::key_file(const std::string& paths) {
  auto keys = std::make_shared<KeyPair>();
  auto bad = [this] { diag_.error("keys need to be specified in hex digits"); };
  std::string out = paths;
  if (auto colon = paths.find(':'); colon != std::string::npos) {
    out = paths.substr(0, colon);
    keys->in = read_key_file(paths.substr(colon + 1), bad);
  }
  keys->out = read_key_file(out, bad);
  return keys;
}

long long RuleCompiler::lifetime(long long seconds) { return seconds; }

// OpenBSD's parse_life(): sscanf(value, "%d%c"), minutes or hours by the
// unit character, in int arithmetic.
long long RuleCompiler::lifetime(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || (text[i] >= '\t' && text[i] <= '\r'))) ++i;
  const std::size_t number_start = i;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  const std::size_t digits_start = i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  // Not even a number: err() adds whatever errno an earlier call left.
  if (i == digits_start) diag_.fatal_with_errno("invalid time specification: " + text);
  // %d converts with strtoimax (saturating) and stores into an int.
  errno = 0;
  const long long wide = std::strtoll(text.c_str() + number_start, nullptr, 10);
  auto seconds = static_cast<std::int32_t>(static_cast<std::uint32_t>(wide));
  if (i == text.size()) return seconds;  // no unit: sscanf returned 1
  auto wrap = [](std::int64_t v) {
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
  };
  switch (std::tolower(static_cast<unsigned char>(text[i]))) {
    case 'm': return wrap(static_cast<std::int64_t>(seconds) * 60);
    case 'h': return wrap(static_cast<std::int64_t>(seconds) * 60 * 60);
    default:
      diag_.fatal_with_errno("invalid time unit");
  }
}

std::optional<unsigned> RuleCompiler::sec_interface(const std::string& name) {
  if (name.size() <= 3 || name.rfind("sec", 0) != 0) {
    diag_.error("invalid sec interface name");
    return std::nullopt;
  }
  std::string unit = name.substr(3);
  errno = 0;
  char* end = nullptr;
  long long value = std::strtoll(unit.c_str(), &end, 10);
  const char* problem = nullptr;
  if (unit.empty() || *end != '\0') problem = "invalid";
  else if (errno == ERANGE || value > static_cast<long long>(UINT_MAX)) problem = "too large";
  else if (value < 0) problem = "too small";
  // OpenBSD's strtonum() gives errno back as it found it when the number
  // is good, and leaves EINVAL or ERANGE behind when it is not (see
  // Diagnostics).
  if (problem != nullptr)
    diag_.set_reference_errno(unit.empty() || *end != '\0' ? EINVAL : ERANGE);
  if (problem != nullptr) {
    diag_.error(std::string("invalid sec interface unit: ") + problem);
    return std::nullopt;
  }
  return static_cast<unsigned>(value);
}

bool RuleCompiler::id_takes_prefix(const std::string& id) {
  return parse_ipv4(id).has_value() || parse_ipv6(id).has_value();
}

// Accept what `ipsecctl -s` prints for address identities (a.b.c.d/32) so
// that such output can be pasted back; any other prefix is OpenBSD's
// syntax error, which the grammar reports.
std::optional<std::string> RuleCompiler::id_with_prefix(const std::string& id, long long prefix) {
  if ((parse_ipv4(id) && prefix == 32) || (parse_ipv6(id) && prefix == 128)) return id;
  return std::nullopt;
}

// ---------------------------------------------------------- statements

bool RuleCompiler::check_ports(const parser::HostsClause& hosts, int proto) {
  if ((hosts.sport != 0 || hosts.dport != 0) && proto != kTcp && proto != kUdp) {
    diag_.set_focus(hosts.sport != 0 ? hosts.sport_where : hosts.dport_where);
    diag_.error("no protocol supplied with source/destination ports", hinted([] {
      return std::string("ports need 'proto tcp' or 'proto udp' before 'from'");
    }));
    return false;
  }
  return true;
}

void RuleCompiler::add(RuleKind kind, std::uint32_t index) {
  plan_.order.push_back(RuleRef{kind, index});
  if (listener_ != nullptr) listener_->rule_added(plan_, plan_.order.back());
}

bool RuleCompiler::macro_defined(const std::string& name, const std::string& value) {
  if (listener_ != nullptr) listener_->macro_defined(name, value);
  // ipsecctl_ike_version: the ike rules after it speak this version, in
  // its file and in the files that file includes after it, until it is set
  // again; it never leaks out of an included file, so that a file per peer
  // says what its own peer speaks (unless -D fixed it for the whole run).
  if (name == kIkeVersionMacro && !ike_version_forced_) {
    auto version = ike_version_from_text(value);
    if (!version) {
      diag_.error(std::string(kIkeVersionMacro) + ": \"" + value +
                      "\" is not an IKE version (1, 2 or any)",
                  hinted([] {
                    return "1: IKEv1 (isakmpd's, the default); 2: IKEv2; any: IKEv1 rules "
                           "that charon also speaks as IKEv2";
                  }));
      return false;
    }
    const SourceLocation here = diag_.position();
    ike_versions_[here.file].emplace_back(here.line, *version);
  }
  return true;
}

IkeVersion RuleCompiler::ike_version_at(SourceLocation where) const {
  for (;;) {
    if (auto it = ike_versions_.find(where.file); it != ike_versions_.end())
      for (auto s = it->second.rbegin(); s != it->second.rend(); ++s)
        if (s->first <= where.line) return s->second;
    auto parent = diag_.included_from(where.file);
    if (!parent) return ike_version_;
    where = *parent;
  }
}

bool RuleCompiler::flow_rule(parser::FlowRule&& rule) {
  const bool both_directions = !rule.direction;
  const Direction direction = rule.direction.value_or(Direction::Out);
  const SaType satype = rule.satype.value_or(SaType::Esp);
  if (!check_ports(rule.hosts, rule.proto)) return false;
  FlowType type = rule.type.value_or(
      satype == SaType::Ipcomp || satype == SaType::Ipip ? FlowType::Use : FlowType::Require);
  // deny and bypass flows need no peer: they never reach an SA.
  const bool needs_peer = type != FlowType::Deny && type != FlowType::Bypass;
  auto srcid = needs_peer ? make_identity(rule.ids.srcid) : nullptr;
  auto dstid = needs_peer ? make_identity(rule.ids.dstid) : nullptr;

  if (!families_match(rule.hosts.src, rule.hosts.dst)) {
    diag_.error("source/destination address families do not match");
    return true;
  }
  const SourceLocation origin = diag_.position();
  int added = 0;
  for (const Endpoint& src : expand_hosts(rule.hosts.src)) {
    for (const Endpoint& dst : expand_hosts(rule.hosts.dst)) {
      if (src.address.family != dst.address.family) continue;
      FlowEntry flow;
      flow.satype = satype;
      flow.direction = direction;
      flow.type = type;
      flow.proto = static_cast<std::uint8_t>(rule.proto);
      flow.sport = rule.hosts.sport;
      flow.dport = rule.hosts.dport;
      flow.src = src.address;
      flow.dst = dst.address;
      flow.srcid = srcid;
      flow.dstid = dstid;
      flow.origin = origin;
      if (needs_peer) {
        if (rule.peers.local && !rule.peers.local->any)
          flow.local = rule.peers.local->endpoints.front().address;
        if (rule.peers.peer) {
          // `peer any` satisfies the check but leaves the flow without one.
          if (!rule.peers.peer->any) flow.peer = rule.peers.peer->endpoints.front().address;
        } else {
          const Endpoint& remote = direction == Direction::In ? src : dst;
          if (!remote.network) flow.peer = remote.address;
          if (!flow.peer) {
            diag_.set_focus(rule.hosts.dst_where);
            diag_.error("no peer specified for destination " + dst.name, hinted([&] {
              return "the destination is a network, so the flow needs 'peer ADDRESS' (the "
                     "gateway for it), or 'peer any'";
            }));
            return true;
          }
        }
      }
      flow.nr = next_nr();
      plan_.flows.push_back(flow);
      add(RuleKind::Flow, static_cast<std::uint32_t>(plan_.flows.size() - 1));
      if (both_directions) {
        FlowEntry reverse = flow;
        reverse.direction = Direction::In;
        std::swap(reverse.src, reverse.dst);
        std::swap(reverse.sport, reverse.dport);
        reverse.nr = next_nr();
        plan_.flows.push_back(reverse);
        add(RuleKind::Flow, static_cast<std::uint32_t>(plan_.flows.size() - 1));
      }
      ++added;
    }
  }
  if (added == 0) diag_.error("rule expands to no valid combination");
  return true;
}

void RuleCompiler::check_default_peer(const IkeEntry& rule, const parser::IkeRule& syntax) {
  DefaultPeer current;
  if (rule.local) current.local = rule.local->name;
  current.psk = rule.psk;
  current.psk_text = rule.psk_text;
  current.exchange = rule.phase1.exchange;
  current.srcid = syntax.ids.srcid;
  current.dstid = syntax.ids.dstid;
  if (!default_peer_) {
    // OpenBSD remembers the rule itself, and printing an `ike dynamic`
    // rule without srcid gives it the host name as srcid (-v, adding):
    // later rules are compared with that.
    // Only if its phase 1 could be written: the identities come after it.
    if (printing_sets_dynamic_srcid_ && rule.mode == IkeMode::Dynamic && !current.srcid) {
      const auto refusal = ike_policy(rule).refusal;
      if (!refusal || refusal->stage != IkeRefusalStage::Phase1)
        current.srcid = resolver_.host_name();
    }
    default_peer_ = current;
    return;
  }
  // isakmpd has one default peer; rules that share it must agree on it.
  const DefaultPeer& first = *default_peer_;
  if (first.local != current.local) diag_.warning("default peer local mismatch");
  if (first.psk != current.psk) diag_.warning("default peer phase 1 auth mismatch");
  if (first.psk && current.psk && first.psk_text != current.psk_text)
    diag_.warning("default peer psk mismatch");
  if (first.exchange != current.exchange) diag_.warning("default peer phase 1 mode mismatch");
  if (first.srcid != current.srcid) diag_.warning("default peer srcid mismatch");
  if (first.dstid != current.dstid) diag_.warning("default peer dstid mismatch");
}

bool RuleCompiler::ike_rule(parser::IkeRule&& rule) {
  if (!check_ports(rule.hosts, rule.proto)) return false;
  if (rule.phase2.transforms && rule.phase2.transforms->enc != nullptr &&
      rule.phase2.transforms->enc->noauth && rule.phase2.transforms->auth != nullptr) {
    diag_.error("authentication is implicit for " +
                std::string(rule.phase2.transforms->enc->name));
    return false;
  }
  IkeEntry base;
  base.mode = rule.mode.value_or(IkeMode::Active);
  base.satype = rule.satype.value_or(SaType::Esp);
  base.tmode = rule.tmode.value_or(TunnelMode::Tunnel);
  base.proto = static_cast<std::uint8_t>(rule.proto);
  base.sport = rule.hosts.sport;
  base.dport = rule.hosts.dport;
  base.phase1.exchange = rule.phase1.given ? rule.phase1.exchange : Phase1Exchange::Main;
  base.phase1.transforms = rule.phase1.transforms;
  base.phase1.lifetime_seconds = rule.phase1.lifetime_seconds;
  base.phase2.transforms = rule.phase2.transforms;
  base.phase2.lifetime_seconds = rule.phase2.lifetime_seconds;
  base.srcid = identity_value(rule.ids.srcid);
  base.dstid = identity_value(rule.ids.dstid);
  base.psk = rule.psk_given;
  base.psk_text = rule.psk;
  base.tag = rule.tag;
  base.sec_interface = rule.sec_interface;
  base.origin = diag_.position();
  base.version = ike_version_at(base.origin);

  parser::HostList src_hosts = rule.hosts.src;
  parser::HostList dst_hosts = rule.hosts.dst;
  if (rule.sec_interface) {
    // A sec(4) interface carries everything: 0.0.0.0/0 on both sides.
    auto everything = std::make_shared<HostNode>();
    everything->endpoints.push_back(
        Endpoint{*parse_ipv4_network("0.0.0.0/0"), true, "0.0.0.0/0", nullptr});
    src_hosts = {everything};
    dst_hosts = {everything};
  }
  if (!families_match(src_hosts, dst_hosts)) {
    diag_.error("source/destination address families do not match");
    return true;
  }
  int added = 0;
  for (const Endpoint& src : expand_hosts(src_hosts)) {
    for (const Endpoint& dst : expand_hosts(dst_hosts)) {
      if (src.address.family != dst.address.family) continue;
      IkeEntry ike = base;
      ike.src = src;
      ike.dst = dst;
      if (rule.peers.local && !rule.peers.local->any) ike.local = rule.peers.local->endpoints.front();
      if (rule.peers.peer) {
        if (!rule.peers.peer->any) ike.peer = rule.peers.peer->endpoints.front();
      } else if (!dst.network) {
        ike.peer = dst;
      }
      if (!ike.peer) check_default_peer(ike, rule);
      if (ike.mode == IkeMode::Dynamic && !ike.srcid)
        ike.srcid = Identity{resolver_.host_name(), IdType::Fqdn};
      ike.nr = next_nr();
      plan_.ikes.push_back(std::move(ike));
      add(RuleKind::Ike, static_cast<std::uint32_t>(plan_.ikes.size() - 1));
      ++added;
    }
  }
  if (added == 0) diag_.error("rule expands to no valid combination");
  return true;
}

bool RuleCompiler::validate_sa(std::uint32_t spi, SaType satype, TransformSet& xfs,
                               const std::optional<std::vector<std::uint8_t>>& authkey,
                               const std::optional<std::vector<std::uint8_t>>& enckey) {
  if (spi == 0) {
    diag_.error("no SPI specified");
    return false;
  }
  switch (satype) {
    case SaType::Ah:
      if (xfs.enc != nullptr) {
        diag_.error("ah does not provide encryption");
        return false;
      }
      if (xfs.comp != nullptr) {
        diag_.error("ah does not provide compression");
        return false;
      }
      if (xfs.auth == nullptr) xfs.auth = &auth_transform(AuthAlg::HmacSha2_256);
      break;
    case SaType::Esp:
      if (xfs.comp != nullptr) {
        diag_.error("esp does not provide compression");
        return false;
      }
      if (xfs.enc == nullptr) xfs.enc = &enc_transform(EncAlg::Aes);
      if (xfs.enc->nostatic && !(allow_static_aead_ && xfs.enc->noauth)) {
        diag_.error(std::string(xfs.enc->name) + " is disallowed with static keys");
        return false;
      }
      if (xfs.enc->noauth && xfs.auth != nullptr) {
        diag_.error("authentication is implicit for " + std::string(xfs.enc->name));
        return false;
      }
      if (!xfs.enc->noauth && xfs.auth == nullptr)
        xfs.auth = &auth_transform(AuthAlg::HmacSha2_256);
      break;
    case SaType::Ipcomp:
      if (xfs.auth != nullptr || xfs.enc != nullptr) {
        diag_.error("no encryption or authentication with ipcomp");
        return false;
      }
      if (xfs.comp == nullptr) xfs.comp = &comp_transform(CompAlg::Deflate);
      break;
    case SaType::Ipip:
      if (xfs.auth != nullptr || xfs.enc != nullptr || xfs.comp != nullptr) {
        diag_.error("no encryption, authentication or compression with ipip");
        return false;
      }
      break;
    case SaType::Tcpmd5:
      break;
  }
  if (xfs.auth != nullptr) {
    if (!authkey && xfs.auth->id != AuthAlg::None) {
      diag_.error("no authentication key specified");
      return false;
    }
    if (authkey && authkey->size() != xfs.auth->key_bytes) {
      diag_.error("wrong authentication key length, needs to be " +
                  std::to_string(xfs.auth->key_bytes * 8) + " bits");
      return false;
    }
  }
  if (xfs.enc != nullptr) {
    if (!enckey && xfs.enc->id != EncAlg::Null) {
      diag_.error("no encryption key specified");
      return false;
    }
    if (enckey) {
      if (enckey->size() < xfs.enc->key_min) {
        diag_.error("encryption key too short (" + std::to_string(enckey->size() * 8) +
                    " bits), minimum " + std::to_string(xfs.enc->key_min * 8) + " bits");
        return false;
      }
      if (enckey->size() > xfs.enc->key_max) {
        diag_.error("encryption key too long (" + std::to_string(enckey->size() * 8) +
                    " bits), maximum " + std::to_string(xfs.enc->key_max * 8) + " bits");
        return false;
      }
    }
  }
  return true;
}

void RuleCompiler::add_to_bundle(const SaEntry& sa, const std::string& src_name,
                                 const std::string& dst_name, const std::string& bundle) {
  for (auto& chain : bundles_) {
    if (chain.src_name == src_name && chain.dst_name == dst_name && chain.bundle == bundle) {
      BundleEntry b;
      b.satype1 = chain.last_satype;
      b.dst1 = chain.last_dst;
      b.spi1 = chain.last_spi;
      b.satype2 = sa.satype;
      b.dst2 = sa.dst;
      b.spi2 = sa.spi;
      b.origin = sa.origin;
      b.nr = next_nr();
      chain.last_satype = sa.satype;
      chain.last_dst = sa.dst;
      chain.last_spi = sa.spi;
      plan_.bundles.push_back(b);
      add(RuleKind::Bundle, static_cast<std::uint32_t>(plan_.bundles.size() - 1));
      return;
    }
  }
  bundles_.push_back(BundleChain{src_name, dst_name, bundle, sa.satype, sa.dst, sa.spi});
}

bool RuleCompiler::expand_sa(const SaTemplate& sa, const parser::HostsClause& hosts,
                             const parser::SpiClause& spi,
                             const std::optional<std::vector<std::uint8_t>>& authkey_in,
                             const std::optional<std::vector<std::uint8_t>>& enckey_in) {
  if (!families_match(hosts.src, hosts.dst)) {
    diag_.error("source/destination address families do not match");
    return true;
  }
  const SourceLocation origin = diag_.position();
  int added = 0;
  for (const Endpoint& src : expand_hosts(hosts.src)) {
    for (const Endpoint& dst : expand_hosts(hosts.dst)) {
      if (src.address.family != dst.address.family) continue;
      SaEntry entry;
      entry.satype = sa.satype;
      entry.tmode = sa.tmode;
      entry.src = src.address;
      entry.dst = dst.address;
      entry.spi = sa.spi;
      entry.udpencap = sa.udpencap;
      entry.udpencap_port = sa.udpencap_port;
      if (sa.has_xfs) {
        entry.auth = sa.xfs.auth;
        entry.enc = sa.xfs.enc;
        entry.comp = sa.xfs.comp;
      }
      entry.authkey = sa.authkey;
      entry.enckey = sa.enckey;
      entry.origin = origin;
      entry.nr = next_nr();
      plan_.sas.push_back(entry);
      add(RuleKind::Sa, static_cast<std::uint32_t>(plan_.sas.size() - 1));
      if (sa.bundle) add_to_bundle(entry, src.name, dst.name, *sa.bundle);

      if (spi.in != 0 || authkey_in || enckey_in) {
        // A reverse SA that does not validate stops the run at once, as
        // OpenBSD's errx() in its grammar action does.
        const char* fatal = sa.has_xfs ? "sarule: expand_rule" : "tcpmd5rule: expand_rule";
        TransformSet xfs = sa.xfs;
        if (sa.has_xfs && !validate_sa(spi.in, sa.satype, xfs, authkey_in, enckey_in))
          Diagnostics::fatal(fatal);
        if (!sa.has_xfs && spi.in == 0) {
          diag_.error("no SPI specified");
          Diagnostics::fatal(fatal);
        }
        SaEntry reverse = entry;
        std::swap(reverse.src, reverse.dst);
        reverse.spi = spi.in;
        reverse.authkey = authkey_in;
        reverse.enckey = enckey_in;
        reverse.nr = next_nr();
        plan_.sas.push_back(reverse);
        add(RuleKind::Sa, static_cast<std::uint32_t>(plan_.sas.size() - 1));
        if (sa.bundle) add_to_bundle(reverse, dst.name, src.name, *sa.bundle);
      }
      ++added;
    }
  }
  if (added == 0) diag_.error("rule expands to no valid combination");
  return true;
}

bool RuleCompiler::sa_rule(parser::SaRule&& rule) {
  SaTemplate sa;
  sa.satype = rule.satype.value_or(SaType::Esp);
  sa.tmode = rule.tmode.value_or(TunnelMode::Tunnel);
  sa.spi = rule.spi.out;
  sa.udpencap = rule.udpencap;
  sa.udpencap_port = static_cast<std::uint16_t>(rule.udpencap_port.value_or(0));
  if (rule.transforms) sa.xfs = *rule.transforms;
  if (rule.authkey) sa.authkey = rule.authkey->out;
  if (rule.enckey) sa.enckey = rule.enckey->out;
  sa.bundle = rule.bundle;
  if (!validate_sa(sa.spi, sa.satype, sa.xfs, sa.authkey, sa.enckey)) return false;
  std::optional<std::vector<std::uint8_t>> authkey_in, enckey_in;
  if (rule.authkey) authkey_in = rule.authkey->in;
  if (rule.enckey) enckey_in = rule.enckey->in;
  return expand_sa(sa, rule.hosts, rule.spi, authkey_in, enckey_in);
}

bool RuleCompiler::tcpmd5_rule(parser::Tcpmd5Rule&& rule) {
  SaTemplate sa;
  sa.satype = SaType::Tcpmd5;
  sa.tmode = TunnelMode::Transport;
  sa.spi = rule.spi.out;
  sa.has_xfs = false;
  if (rule.authkey) sa.authkey = rule.authkey->out;
  if (sa.spi == 0) {
    diag_.error("no SPI specified");
    return false;
  }
  std::optional<std::vector<std::uint8_t>> authkey_in;
  if (rule.authkey) authkey_in = rule.authkey->in;
  return expand_sa(sa, rule.hosts, rule.spi, authkey_in, std::nullopt);
}

}  // namespace ipsecctl::compiler
