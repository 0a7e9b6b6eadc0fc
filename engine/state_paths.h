// Where ipsecctl keeps what must outlive one run: the lock that makes
// loads take turns and the record of what each configuration file put in
// place. Both are per network namespace (the kernel's IPsec databases
// are), under /run/ipsecctl (a tmpfs: the kernel forgets its SAs at boot,
// and so do the records), or $IPSECCTL_STATE_DIR.
#pragma once

#include <string>

namespace ipsecctl::engine {

// /run/ipsecctl, or $IPSECCTL_STATE_DIR when set and not empty.
std::string state_directory();

// This process's network namespace as a name that no other namespace of
// this boot has: "net-<cookie>" from SO_NETNS_COOKIE (inode numbers are
// reused once a namespace is gone; cookies are not). Kernels before 5.14
// have no cookie: "net-ino-<inode>".
std::string namespace_name();

// Creates `path` and its parents (mode 0700) if missing; false on failure.
bool make_directories(const std::string& path);

}  // namespace ipsecctl::engine
