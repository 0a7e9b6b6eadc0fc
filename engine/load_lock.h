// One load at a time: runs of ipsecctl that change the kernel or a daemon
// (-f, -d -f, -F) take an exclusive lock first, so that the
// dump-compare-apply sequence of one never interleaves with another's.
//
// The lock is a file per network namespace (the kernel's IPsec databases
// are per namespace): /run/ipsecctl/net-<cookie>.lock. A second run
// waits for it a bounded time, then gives up with a message naming the
// process that holds it.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/diagnostics.h"
#include "common/unique_fd.h"

namespace ipsecctl::engine {

class LoadLock {
 public:
  // Null after reporting why the lock could not be had.
  static std::optional<LoadLock> acquire(Diagnostics& diagnostics,
                                         std::chrono::milliseconds patience);

  // The lock file for the network namespace this process is in.
  static std::string path();

 private:
  explicit LoadLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // held while open; flock is released with it
};

}  // namespace ipsecctl::engine
