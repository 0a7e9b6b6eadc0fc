#include "compiler/compile_hints.h"

#include <cstdlib>
#include <vector>

#include "common/spelling.h"
#include "compiler/address.h"
#include "compiler/netdb_tables.h"
#include "compiler/transforms.h"

namespace ipsecctl::compiler::hints {

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    auto at = s.find(sep, start);
    parts.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) break;
    start = at + 1;
  }
  return parts;
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

std::string bad_host(const std::string& spec) {
  std::string address = spec, prefix;
  if (auto slash = spec.rfind('/'); slash != std::string::npos) {
    address = spec.substr(0, slash);
    prefix = spec.substr(slash + 1);
  }
  const bool v6 = address.find(':') != std::string::npos;
  if (!prefix.empty()) {
    const long bits = std::strtol(prefix.c_str(), nullptr, 10);
    if (bits < 0) return "a prefix length cannot be negative";
    if (!v6 && bits > 32 && parse_ipv4(address))
      return "prefix length /" + prefix + " is out of range for IPv4 (0 to 32)";
  }
  if (v6) {
    if (address.find("::") != address.rfind("::"))
      return "an IPv6 address may use '::' only once";
    return "'" + address + "' is not a valid IPv6 address";
  }
  if (address.find_first_not_of("0123456789.") == std::string::npos) {
    const auto parts = split(address, '.');
    for (const auto& part : parts)
      if (all_digits(part) && std::strtoul(part.c_str(), nullptr, 10) > 255)
        return "octet " + part + " is out of range: each part of an IPv4 address is 0 to 255";
    if (parts.size() != 4)
      return "an IPv4 address has four parts (a.b.c.d); '" + address + "' has " +
             std::to_string(parts.size());
    return "'" + address + "' is not a valid IPv4 address";
  }
  return "no interface, address or host name '" + spec +
         "' is known here (names are looked up in /etc/hosts and DNS, without a prefix)";
}

std::string unknown_port(const std::string& name) {
  if (auto guess = closest_word(name, netdb::service_names()))
    return "did you mean '" + *guess + "'? (or give the port number)";
  return "give the port as a number, or a name from OpenBSD's services list (e.g. www, "
         "https, ssh, isakmp)";
}

std::string unknown_protocol(const std::string& name) {
  if (auto guess = closest_word(name, netdb::protocol_names()))
    return "did you mean '" + *guess + "'?";
  return "give the protocol as a number (0 to 255) or a name such as tcp, udp, icmp, gre";
}

std::string bad_transform(char table, const std::string& name) {
  const auto names = transform_names(table);
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  if (auto guess = closest_word(name, names)) return "did you mean '" + *guess + "'?";
  return "valid names: " + list;
}

}  // namespace ipsecctl::compiler::hints
