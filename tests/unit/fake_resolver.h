// A resolver with answers set by the test, so results never depend on the
// machine's interfaces, hosts file or name servers.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "compiler/resolver.h"

namespace ipsecctl::testing {

class FakeResolver : public compiler::Resolver {
 public:
  std::map<std::string, std::vector<compiler::IpAddress>> interfaces;
  std::map<std::string, std::vector<compiler::IpAddress>> hosts;
  std::map<std::string, int> protocols{{"tcp", 6}, {"udp", 17}, {"esp", 50}, {"gre", 47}};
  std::map<std::string, std::uint16_t> services{{"ssh", 22}, {"ntp", 123}, {"domain", 53}};
  std::map<std::string, std::uint32_t> interface_indexes;
  std::string name = "gw.example.org";
  int host_lookups = 0;

  std::optional<std::vector<std::pair<compiler::IpAddress, std::string>>> interface_addresses(
      const std::string& n) override {
    auto it = interfaces.find(n);
    if (it == interfaces.end()) return std::nullopt;
    std::vector<std::pair<compiler::IpAddress, std::string>> out;
    for (const auto& a : it->second) out.emplace_back(a, n);
    return out;
  }
  std::vector<compiler::IpAddress> lookup_host(const std::string& n) override {
    ++host_lookups;
    auto it = hosts.find(n);
    return it == hosts.end() ? std::vector<compiler::IpAddress>{} : it->second;
  }
  std::optional<int> protocol_number(const std::string& n) override {
    auto it = protocols.find(n);
    if (it == protocols.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::string> protocol_name(int number) override {
    for (const auto& [n, v] : protocols)
      if (v == number) return n;
    return std::nullopt;
  }
  std::optional<std::uint16_t> service_port(const std::string& n, const std::string&) override {
    auto it = services.find(n);
    if (it == services.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::string> service_name(std::uint16_t port, const std::string&) override {
    for (const auto& [n, v] : services)
      if (v == port) return n;
    return std::nullopt;
  }
  std::string host_name() override { return name; }
  std::optional<std::uint32_t> interface_index(const std::string& n) override {
    auto it = interface_indexes.find(n);
    if (it == interface_indexes.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::string> interface_name(std::uint32_t index) override {
    for (const auto& [n, i] : interface_indexes)
      if (i == index) return n;
    return std::nullopt;
  }
};

}  // namespace ipsecctl::testing
