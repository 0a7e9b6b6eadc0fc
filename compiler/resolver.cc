#include "compiler/resolver.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <climits>
#include <cstring>

namespace ipsecctl::compiler {

namespace {

// The loopback interface is lo0 on OpenBSD and lo on Linux. A configuration
// written for OpenBSD that names lo0 means this machine's loopback.
constexpr const char* kOpenBsdLoopback = "lo0";

IpAddress from_sockaddr(const sockaddr* sa) {
  IpAddress a;
  if (sa->sa_family == AF_INET) {
    a.family = Family::Inet;
    a.prefixlen = 32;
    std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, 4);
  } else if (sa->sa_family == AF_INET6) {
    a.family = Family::Inet6;
    a.prefixlen = 128;
    std::memcpy(a.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, 16);
  }
  return a;
}

bool is_link_local(const IpAddress& a) {
  return a.family == Family::Inet6 && a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80;
}

}  // namespace

void SystemResolver::load_interfaces() {
  interfaces_loaded_ = true;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return;
  std::unique_ptr<ifaddrs, void (*)(ifaddrs*)> guard(list, ::freeifaddrs);
  for (ifaddrs* ifa = list; ifa != nullptr; ifa = ifa->ifa_next) {
    Interface* entry = nullptr;
    for (auto& i : interfaces_)
      if (i.name == ifa->ifa_name) entry = &i;
    if (entry == nullptr) {
      interfaces_.push_back(Interface{ifa->ifa_name, (ifa->ifa_flags & IFF_LOOPBACK) != 0, {}});
      entry = &interfaces_.back();
    }
    if (ifa->ifa_addr == nullptr) continue;
    if (ifa->ifa_addr->sa_family != AF_INET && ifa->ifa_addr->sa_family != AF_INET6) continue;
    IpAddress a = from_sockaddr(ifa->ifa_addr);
    if (is_link_local(a)) continue;
    entry->addresses.push_back(a);
  }
}

std::optional<std::vector<IpAddress>> SystemResolver::interface_addresses(
    const std::string& name) {
  if (!interfaces_loaded_) load_interfaces();
  for (const auto& i : interfaces_)
    if (i.name == name) return i.addresses;
  if (name == kOpenBsdLoopback) {
    std::vector<IpAddress> all;
    bool found = false;
    for (const auto& i : interfaces_) {
      if (!i.loopback) continue;
      found = true;
      all.insert(all.end(), i.addresses.begin(), i.addresses.end());
    }
    if (found) return all;
  }
  return std::nullopt;
}

std::vector<IpAddress> SystemResolver::lookup_host(const std::string& name) {
  std::vector<IpAddress> result;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* answers = nullptr;
  int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &answers);
  if (rc != 0) {
    // AI_ADDRCONFIG hides everything on a machine (or namespace) that has
    // only loopback addresses; ask again without it.
    hints.ai_flags = 0;
    if (::getaddrinfo(name.c_str(), nullptr, &hints, &answers) != 0) return result;
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard(answers, ::freeaddrinfo);
  for (addrinfo* ai = answers; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    if (ai->ai_family == AF_INET6 &&
        reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_scope_id != 0)
      continue;  // scoped addresses cannot be used in a policy
    result.push_back(from_sockaddr(ai->ai_addr));
  }
  return result;
}

std::optional<int> SystemResolver::protocol_number(const std::string& name) {
  auto it = proto_cache_.find(name);
  if (it != proto_cache_.end()) return it->second;
  protoent entry{};
  protoent* found = nullptr;
  char buffer[1024];
  std::optional<int> result;
  if (::getprotobyname_r(name.c_str(), &entry, buffer, sizeof buffer, &found) == 0 && found)
    result = found->p_proto;
  proto_cache_.emplace(name, result);
  return result;
}

std::optional<std::string> SystemResolver::protocol_name(int number) {
  auto it = proto_name_cache_.find(number);
  if (it != proto_name_cache_.end()) return it->second;
  protoent entry{};
  protoent* found = nullptr;
  char buffer[1024];
  std::optional<std::string> result;
  if (::getprotobynumber_r(number, &entry, buffer, sizeof buffer, &found) == 0 && found)
    result = found->p_name;
  proto_name_cache_.emplace(number, result);
  return result;
}

std::optional<std::uint16_t> SystemResolver::service_port(const std::string& name,
                                                          const std::string& proto) {
  auto key = std::make_pair(name, proto);
  auto it = port_cache_.find(key);
  if (it != port_cache_.end()) return it->second;
  servent entry{};
  servent* found = nullptr;
  char buffer[1024];
  std::optional<std::uint16_t> result;
  if (::getservbyname_r(name.c_str(), proto.c_str(), &entry, buffer, sizeof buffer, &found) ==
          0 &&
      found)
    result = ntohs(static_cast<std::uint16_t>(found->s_port));
  port_cache_.emplace(key, result);
  return result;
}

std::optional<std::string> SystemResolver::service_name(std::uint16_t port,
                                                        const std::string& proto) {
  auto key = std::make_pair(port, proto);
  auto it = service_cache_.find(key);
  if (it != service_cache_.end()) return it->second;
  servent entry{};
  servent* found = nullptr;
  char buffer[1024];
  std::optional<std::string> result;
  if (::getservbyport_r(htons(port), proto.c_str(), &entry, buffer, sizeof buffer, &found) == 0 &&
      found)
    result = found->s_name;
  service_cache_.emplace(key, result);
  return result;
}

std::string SystemResolver::host_name() {
  if (!host_name_) {
    char name[HOST_NAME_MAX + 1] = {};
    host_name_ = ::gethostname(name, sizeof name - 1) == 0 ? name : "localhost";
  }
  return *host_name_;
}

}  // namespace ipsecctl::compiler
