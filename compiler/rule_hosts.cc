// Hosts, protocols and ports, as OpenBSD's grammar actions look them up.
#include "compiler/rule_compiler.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "compiler/compile_hints.h"

namespace ipsecctl::compiler {

namespace {

Endpoint any_endpoint(Family family) {
  Endpoint e;
  e.address = any_address(family);
  e.network = true;
  e.name = family == Family::Inet ? "0.0.0.0/0" : "::/0";
  return e;
}

}  // namespace

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

}  // namespace ipsecctl::compiler
