#include "compiler/resolver.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/unique_file.h"
#include "compiler/netdb_tables.h"

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

std::vector<std::string> SystemResolver::default_route_interfaces() const {
  std::vector<std::string> names;
  auto add = [&names](const std::string& n) {
    for (const auto& existing : names)
      if (existing == n) return;
    names.push_back(n);
  };
  // IPv4: "Iface Destination Gateway Flags ... Mask ..." in hex.
  if (UniqueFile file = open_file("/proc/net/route", "re")) {
    std::FILE* f = file.get();
    char line[512];
    bool header = true;
    while (std::fgets(line, sizeof line, f) != nullptr) {
      if (header) {
        header = false;
        continue;
      }
      char iface[64] = {}, dest[16] = {}, gateway[16] = {}, mask[16] = {};
      unsigned flags = 0, refcnt = 0, use = 0, metric = 0;
      if (std::sscanf(line, "%63s %15s %15s %x %u %u %u %15s", iface, dest, gateway, &flags,
                      &refcnt, &use, &metric, mask) == 8 &&
          std::string(dest) == "00000000" && std::string(mask) == "00000000" &&
          (flags & 0x1) != 0)
        add(iface);
    }
  }
  // IPv6: "dest destlen src srclen nexthop metric refcnt use flags iface".
  if (UniqueFile file = open_file("/proc/net/ipv6_route", "re")) {
    std::FILE* f = file.get();
    char line[512];
    while (std::fgets(line, sizeof line, f) != nullptr) {
      char dest[40] = {}, iface[64] = {};
      unsigned dest_len = 0;
      if (std::sscanf(line, "%39s %x %*s %*x %*s %*x %*x %*x %*x %63s", dest, &dest_len, iface) ==
              3 &&
          dest_len == 0 && std::string(dest) == std::string(32, '0') &&
          std::string(iface) != "lo")
        add(iface);
    }
  }
  return names;
}

std::optional<std::vector<std::pair<IpAddress, std::string>>>
SystemResolver::interface_addresses(const std::string& name) {
  if (!interfaces_loaded_) load_interfaces();
  std::vector<std::pair<IpAddress, std::string>> result;
  for (const auto& i : interfaces_) {
    if (i.name != name) continue;
    for (const auto& a : i.addresses) result.emplace_back(a, i.name);
    return result;
  }
  // OpenBSD's interface group of the interfaces with a default route.
  if (name == "egress") {
    bool found = false;
    for (const auto& member : default_route_interfaces()) {
      for (const auto& i : interfaces_) {
        if (i.name != member) continue;
        found = true;
        for (const auto& a : i.addresses) result.emplace_back(a, i.name);
      }
    }
    if (found) return result;
    return std::nullopt;
  }
  if (name == kOpenBsdLoopback) {
    bool found = false;
    for (const auto& i : interfaces_) {
      if (!i.loopback) continue;
      found = true;
      for (const auto& a : i.addresses) result.emplace_back(a, name);
    }
    if (found) return result;
  }
  return std::nullopt;
}

std::optional<std::uint32_t> SystemResolver::interface_index(const std::string& name) {
  const unsigned index = ::if_nametoindex(name.c_str());
  if (index == 0) return std::nullopt;
  return index;
}

std::optional<std::string> SystemResolver::interface_name(std::uint32_t index) {
  char name[IF_NAMESIZE] = {};
  if (::if_indextoname(index, name) == nullptr) return std::nullopt;
  return std::string(name);
}

bool looks_like_address(const std::string& word) {
  if (word.empty()) return false;
  if (word.find(':') != std::string::npos) return true;
  if (word.find_first_not_of("0123456789.") == std::string::npos) return true;
  if (word.size() >= 2 && word[0] == '0' && (word[1] == 'x' || word[1] == 'X') &&
      word.find_first_not_of("0123456789abcdefABCDEF.", 2) == std::string::npos)
    return true;
  return false;
}

namespace {

// The hosts file alone (IPSECCTL_NO_DNS): "address name alias...".
std::vector<IpAddress> hosts_file_lookup(const std::string& name) {
  std::vector<IpAddress> result;
  UniqueFile file = open_file("/etc/hosts", "re");
  if (!file) return result;
  std::FILE* f = file.get();
  char line[1024];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    std::string text(line);
    if (auto hash = text.find('#'); hash != std::string::npos) text.resize(hash);
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
      std::size_t start = i;
      while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
      if (i > start) words.push_back(text.substr(start, i - start));
    }
    if (words.size() < 2) continue;
    bool match = false;
    for (std::size_t k = 1; k < words.size(); ++k) match = match || words[k] == name;
    if (!match) continue;
    if (auto v4 = parse_ipv4(words[0]))
      result.push_back(*v4);
    else if (auto v6 = parse_ipv6(words[0]))
      result.push_back(*v6);
  }
  return result;
}

}  // namespace

std::vector<IpAddress> SystemResolver::lookup_host(const std::string& name) {
  const char* no_dns = std::getenv("IPSECCTL_NO_DNS");
  if (no_dns != nullptr && *no_dns != '\0' && std::string(no_dns) != "0")
    return hosts_file_lookup(name);
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

// Names are OpenBSD's (compiler/netdb_tables), so that output is the same
// on every system; input also takes the names this system knows.
std::optional<int> SystemResolver::protocol_number(const std::string& name) {
  if (auto number = netdb::protocol_number(name)) return number;
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
  if (auto name = netdb::protocol_name(number)) return std::string(*name);
  return std::nullopt;
}

std::optional<std::uint16_t> SystemResolver::service_port(const std::string& name,
                                                          const std::string& proto) {
  const auto transport = proto == "tcp" ? netdb::Transport::Tcp : netdb::Transport::Udp;
  if (auto port = netdb::service_port(name, transport)) return port;
  return std::nullopt;
}

std::optional<std::uint16_t> SystemResolver::system_service_port(const std::string& name,
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
  const auto transport = proto == "tcp" ? netdb::Transport::Tcp : netdb::Transport::Udp;
  if (auto name = netdb::service_name(port, transport)) return std::string(*name);
  return std::nullopt;
}

std::string SystemResolver::host_name() {
  if (!host_name_) {
    char name[HOST_NAME_MAX + 1] = {};
    host_name_ = ::gethostname(name, sizeof name - 1) == 0 ? name : "localhost";
  }
  return *host_name_;
}

}  // namespace ipsecctl::compiler
