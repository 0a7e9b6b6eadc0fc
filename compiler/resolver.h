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
  // Addresses of an interface (or interface group); nullopt when no
  // interface of that name exists. Link-local IPv6 addresses are left out.
  virtual std::optional<std::vector<IpAddress>> interface_addresses(const std::string& name) = 0;
  // Name service lookup (hosts file, DNS); every IPv4/IPv6 answer.
  virtual std::vector<IpAddress> lookup_host(const std::string& name) = 0;
  virtual std::optional<int> protocol_number(const std::string& name) = 0;
  virtual std::optional<std::string> protocol_name(int number) = 0;
  // `proto` is "tcp" or "udp"; ports are in host byte order.
  virtual std::optional<std::uint16_t> service_port(const std::string& name,
                                                    const std::string& proto) = 0;
  virtual std::optional<std::string> service_name(std::uint16_t port,
                                                  const std::string& proto) = 0;
  virtual std::string host_name() = 0;
};

// The real machine: getifaddrs, getaddrinfo, the netdb files.
class SystemResolver : public Resolver {
 public:
  std::optional<std::vector<IpAddress>> interface_addresses(const std::string& name) override;
  std::vector<IpAddress> lookup_host(const std::string& name) override;
  std::optional<int> protocol_number(const std::string& name) override;
  std::optional<std::string> protocol_name(int number) override;
  std::optional<std::uint16_t> service_port(const std::string& name,
                                            const std::string& proto) override;
  std::optional<std::string> service_name(std::uint16_t port, const std::string& proto) override;
  std::string host_name() override;

 private:
  struct Interface {
    std::string name;
    bool loopback = false;
    std::vector<IpAddress> addresses;
  };
  void load_interfaces();
  bool interfaces_loaded_ = false;
  std::optional<std::string> host_name_;
  std::vector<Interface> interfaces_;
  // Port and protocol names are looked up once per value: a large
  // configuration repeats the same few many times.
  std::map<std::pair<std::string, std::string>, std::optional<std::uint16_t>> port_cache_;
  std::map<std::pair<std::uint16_t, std::string>, std::optional<std::string>> service_cache_;
  std::map<std::string, std::optional<int>> proto_cache_;
  std::map<int, std::optional<std::string>> proto_name_cache_;
};

}  // namespace ipsecctl::compiler
