// The error a kernel backend throws when the kernel interface itself fails.
#pragma once

#include <stdexcept>

namespace ipsecctl::backends {

// The kernel interface itself failed (no permission, no such protocol, a
// broken socket): one line for the user, nothing else can go on.
class KernelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace ipsecctl::backends
