#include "backends/host_routes.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>

#include "common/unique_fd.h"

namespace ipsecctl::backends {

namespace {

// The address bytes of a sockaddr of the family, or nullptr.
const void* address_bytes(const sockaddr* sa, compiler::Family family) {
  if (sa == nullptr) return nullptr;
  if (family == compiler::Family::Inet && sa->sa_family == AF_INET)
    return &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr;
  if (family == compiler::Family::Inet6 && sa->sa_family == AF_INET6)
    return &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
  return nullptr;
}

}  // namespace

std::optional<compiler::IpAddress> source_address_for(const compiler::IpAddress& peer) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (peer.family == compiler::Family::Inet) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(500);
    std::memcpy(&sin->sin_addr, peer.bytes.data(), 4);
    len = sizeof *sin;
  } else if (peer.family == compiler::Family::Inet6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(500);
    std::memcpy(&sin6->sin6_addr, peer.bytes.data(), 16);
    len = sizeof *sin6;
  } else {
    return std::nullopt;
  }
  UniqueFd fd(::socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return std::nullopt;
  sockaddr_storage local{};
  socklen_t local_len = sizeof local;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &local_len) != 0)
    return std::nullopt;
  const void* bytes = address_bytes(reinterpret_cast<sockaddr*>(&local), peer.family);
  if (bytes == nullptr) return std::nullopt;
  compiler::IpAddress out;
  out.family = peer.family;
  out.prefixlen = static_cast<std::uint8_t>(peer.max_prefix());
  std::memcpy(out.bytes.data(), bytes, out.size());
  return out;
}

std::optional<std::string> interface_with_address(const compiler::IpAddress& address) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  std::unique_ptr<ifaddrs, decltype(&::freeifaddrs)> owned(list, &::freeifaddrs);
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    const void* bytes = address_bytes(i->ifa_addr, address.family);
    if (bytes != nullptr && std::memcmp(bytes, address.bytes.data(), address.size()) == 0)
      return std::string(i->ifa_name);
  }
  return std::nullopt;
}

}  // namespace ipsecctl::backends
