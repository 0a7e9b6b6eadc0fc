// IPv4/IPv6 addresses with a prefix length, parsed and printed the way
// OpenBSD's libc does (inet_pton, inet_net_pton, inet_ntop), so that the
// output does not depend on the C library of the machine we run on.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ipsecctl::compiler {

enum class Family : std::uint8_t { Unspec = 0, Inet = 4, Inet6 = 6 };

struct IpAddress {
  Family family = Family::Unspec;
  std::uint8_t prefixlen = 0;            // mask length
  std::array<std::uint8_t, 16> bytes{};  // network order; IPv4 in bytes[0..3]

  int max_prefix() const { return family == Family::Inet ? 32 : 128; }
  bool full_length() const { return prefixlen == max_prefix(); }
  std::size_t size() const { return family == Family::Inet ? 4 : 16; }
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// BSD inet_aton: the legacy forms OpenBSD's getaddrinfo still accepts for
// a host name ("127.1", "0x7f000001", "10.0.513").
std::optional<IpAddress> parse_inet_aton(std::string_view text);
// Strict dotted quad (inet_pton).
std::optional<IpAddress> parse_ipv4(std::string_view text);
// BSD inet_net_pton(AF_INET): "10.0.2/24", "10/8"; host bits are kept.
// Returns the address with the prefix length given after the '/'.
std::optional<IpAddress> parse_ipv4_network(std::string_view text);
// inet_pton(AF_INET6); the prefix length is set to 128.
std::optional<IpAddress> parse_ipv6(std::string_view text);

// inet_ntop of the address alone.
std::string format_address(const IpAddress& address);
// The same, but an IPv6 address is all hex words, never with a dotted IPv4
// tail ("::ffff:0:0", not "::ffff:0.0.0.0"): strongSwan reads any text
// with a '.' as IPv4.
std::string format_address_hex(const IpAddress& address);
// inet_ntop plus "/len" when the prefix is not full length.
std::string format_prefix(const IpAddress& address);
// The mask as an address ("255.255.255.0", "ffff:ff00::").
std::string format_mask(const IpAddress& address);

IpAddress any_address(Family family);  // 0.0.0.0/0 or ::/0
// Clears host bits (for kernel selectors).
IpAddress network_of(const IpAddress& address);
// Does `outer` (as a prefix) contain `inner`?
bool prefix_contains(const IpAddress& outer, const IpAddress& inner);

}  // namespace ipsecctl::compiler
