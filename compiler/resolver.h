// Everything the compiler learns from the machine it runs on: interface
// addresses, host names, protocol and service names, the host name.
//
// It sits behind one small interface so that tests can inject answers and
// so that a compile never depends on which interfaces or name servers the
// build machine happens to have.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/address.h"

namespace ipsecctl::compiler {

class Resolver {
 public:
  virtual ~Resolver() = default;
  // Addresses of an interface (or interface group), each with the name of
  // the interface that holds it; nullopt when no interface of that name
  // exists. Link-local IPv6 addresses are left out. `egress` is the group
  // of the interfaces that hold a default route, as on OpenBSD.
  virtual std::optional<std::vector<std::pair<IpAddress, std::string>>> interface_addresses(
      const std::string& name) = 0;
  // if_nametoindex / if_indextoname, for IPv6 scopes ("fe80::1%eth0").
  virtual std::optional<std::uint32_t> interface_index(const std::string& name) {
    (void)name;
    return std::nullopt;
  }
  virtual std::optional<std::string> interface_name(std::uint32_t index) {
    (void)index;
    return std::nullopt;
  }
  // Name service lookup (hosts file, DNS); every IPv4/IPv6 answer.
  virtual std::vector<IpAddress> lookup_host(const std::string& name) = 0;
  virtual std::optional<int> protocol_number(const std::string& name) = 0;
  virtual std::optional<std::string> protocol_name(int number) = 0;
  // `proto` is "tcp" or "udp"; ports are in host byte order. OpenBSD's
  // names first; system_service_port() is asked only when neither tcp
  // nor udp knows the name there.
  virtual std::optional<std::uint16_t> service_port(const std::string& name,
                                                    const std::string& proto) = 0;
  virtual std::optional<std::uint16_t> system_service_port(const std::string& name,
                                                           const std::string& proto) {
    (void)name;
    (void)proto;
    return std::nullopt;
  }
  virtual std::optional<std::string> service_name(std::uint16_t port,
                                                  const std::string& proto) = 0;
  virtual std::string host_name() = 0;
};

// Does the word look like an attempt at a numeric address ("1.2.3.256",
// "10.1", "::g", "0x0a000001")? Such words are never looked up by name:
// no name server holds them, and asking one would only be slow.
bool looks_like_address(const std::string& word);

// The real machine: getifaddrs, getaddrinfo (or only the hosts file when
// IPSECCTL_NO_DNS is set, for a boot without name service), OpenBSD's
// service and protocol names.
class SystemResolver : public Resolver {
 public:
  std::optional<std::vector<std::pair<IpAddress, std::string>>> interface_addresses(
      const std::string& name) override;
  std::optional<std::uint32_t> interface_index(const std::string& name) override;
  std::optional<std::string> interface_name(std::uint32_t index) override;
  std::vector<IpAddress> lookup_host(const std::string& name) override;
  std::optional<int> protocol_number(const std::string& name) override;
  std::optional<std::string> protocol_name(int number) override;
  std::optional<std::uint16_t> service_port(const std::string& name,
                                            const std::string& proto) override;
  std::optional<std::uint16_t> system_service_port(const std::string& name,
                                                   const std::string& proto) override;
  std::optional<std::string> service_name(std::uint16_t port, const std::string& proto) override;
  std::string host_name() override;

 private:
  struct Interface {
    std::string name;
    bool loopback = false;
    std::vector<IpAddress> addresses;
  };
  std::vector<std::string> default_route_interfaces() const;
  void load_interfaces();
  bool interfaces_loaded_ = false;
  std::optional<std::string> host_name_;
  std::vector<Interface> interfaces_;
  // Port and protocol names are looked up once per value: a large
  // configuration repeats the same few many times.
  std::map<std::pair<std::string, std::string>, std::optional<std::uint16_t>> port_cache_;
  std::map<std::string, std::optional<int>> proto_cache_;
};

}  // namespace ipsecctl::compiler
