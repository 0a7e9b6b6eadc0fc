// An owned netlink socket (RAII): opened bound to the kernel, closed on
// destruction, moved but never copied.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace ipsecctl::backends::xfrm {

class NetlinkSocket {
 public:
  // Throws KernelError with a message fit for the user.
  static NetlinkSocket open(int protocol, std::uint32_t groups = 0);

  NetlinkSocket(NetlinkSocket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  NetlinkSocket& operator=(NetlinkSocket&& other) noexcept;
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;
  ~NetlinkSocket();

  int fd() const { return fd_; }
  std::uint32_t port_id() const { return port_id_; }

  // Writes one datagram of whole netlink messages to the kernel. Throws
  // KernelError when the write fails.
  void send(std::span<const std::uint8_t> messages);
  // Reads one datagram; returns its size, 0 if `wait` is false and nothing
  // is queued, or -errno for ENOBUFS (answers were dropped).
  ssize_t receive(std::span<std::uint8_t> buffer, bool wait);

 private:
  explicit NetlinkSocket(int fd) : fd_(fd) {}
  int fd_ = -1;
  std::uint32_t port_id_ = 0;
};

}  // namespace ipsecctl::backends::xfrm
