// OpenBSD's service and protocol names (its /etc/services and
// /etc/protocols), built in as data.
//
// ipsecctl prints ports and protocols by name ("port www", "proto
// ipv6-icmp"). Taking the names from the machine's own files would make
// the output depend on the distribution (Debian calls port 80 "http" and
// port 1701 "l2f"); OpenBSD's names make it the same everywhere. Names are
// looked up as OpenBSD looks them up: a service by name or alias for one
// protocol, a number by its first entry.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ipsecctl::compiler::netdb {

enum class Transport : std::uint8_t { Tcp, Udp };

// getservbyname(name, proto): the port (host order) of the entry whose name
// or alias is `name`.
std::optional<std::uint16_t> service_port(std::string_view name, Transport proto);
// getservbyport(port, proto): the name of the first entry for the port.
std::optional<std::string_view> service_name(std::uint16_t port, Transport proto);

// getprotobyname / getprotobynumber.
std::optional<int> protocol_number(std::string_view name);
std::optional<std::string_view> protocol_name(int number);

}  // namespace ipsecctl::compiler::netdb

namespace ipsecctl::compiler::netdb {
// Every service and protocol name, for "did you mean".
std::vector<std::string> service_names();
std::vector<std::string> protocol_names();
}  // namespace ipsecctl::compiler::netdb
