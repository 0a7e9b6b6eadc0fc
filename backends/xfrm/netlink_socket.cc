#include "backends/xfrm/netlink_socket.h"

#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "backends/kernel/kernel_channel.h"

namespace ipsecctl::backends::xfrm {

namespace {
std::string errno_text(int error) { return std::strerror(error); }
}  // namespace

NetlinkSocket NetlinkSocket::open(int protocol, std::uint32_t groups) {
  UniqueFd owned(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol));
  if (!owned) {
    int error = errno;
    if (error == EPROTONOSUPPORT)
      throw KernelError("XFRM netlink is not available in this kernel (CONFIG_XFRM_USER, module "
                        "xfrm_user): " + errno_text(error));
    throw KernelError("cannot open a netlink socket: " + errno_text(error));
  }
  const int fd = owned.get();
  NetlinkSocket socket(std::move(owned));
  // Room for the kernel's answers to a whole batch, and for dumps. Raising
  // the limit needs CAP_NET_ADMIN, which loading needs anyway; without it
  // the normal limit still works, only with smaller batches in flight.
  int size = 8 << 20;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  int one = 1;
  // Errors carry only the failing message's header (not the whole
  // message), and the kernel's explanation as an attribute.
  (void)::setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  (void)::setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  local.nl_groups = groups;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
    throw KernelError("cannot bind the netlink socket: " + errno_text(errno));
  return socket;
}

void NetlinkSocket::send(std::span<const std::uint8_t> messages) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  for (;;) {
    ssize_t n = ::sendto(fd_.get(), messages.data(), messages.size(), 0,
                         reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
    if (n >= 0) {
      if (static_cast<std::size_t>(n) != messages.size())
        throw KernelError("short write to the netlink socket");
      return;
    }
    if (errno == EINTR) continue;
    throw KernelError("cannot write to the netlink socket: " + errno_text(errno));
  }
}

ssize_t NetlinkSocket::receive(std::span<std::uint8_t> buffer, bool wait) {
  for (;;) {
    ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), wait ? 0 : MSG_DONTWAIT);
    if (n >= 0) return n;
    int error = errno;
    if (error == EINTR && wait) continue;
    if (!wait && (error == EAGAIN || error == EWOULDBLOCK)) return 0;
    if (error == ENOBUFS) return -ENOBUFS;
    if (error == EINTR) return -EINTR;
    throw KernelError("cannot read from the netlink socket: " + errno_text(error));
  }
}

}  // namespace ipsecctl::backends::xfrm
