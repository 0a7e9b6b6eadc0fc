// A netlink socket bound to the kernel, owned through UniqueFd (closed on
// destruction, moved but never copied).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/unique_fd.h"

namespace ipsecctl::backends::xfrm {

class NetlinkSocket {
 public:
  // Throws KernelError with a message fit for the user.
  static NetlinkSocket open(int protocol, std::uint32_t groups = 0);

  int fd() const { return fd_.get(); }

  // Writes one datagram of whole netlink messages to the kernel. Throws
  // KernelError when the write fails.
  void send(std::span<const std::uint8_t> messages);
  // Reads one datagram; returns its size, 0 if `wait` is false and nothing
  // is queued, or -errno for ENOBUFS (answers were dropped).
  ssize_t receive(std::span<std::uint8_t> buffer, bool wait);

 private:
  explicit NetlinkSocket(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace ipsecctl::backends::xfrm
