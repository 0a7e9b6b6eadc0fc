#include "engine/state_paths.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>

#include "common/unique_fd.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

namespace ipsecctl::engine {

std::string state_directory() {
  const char* dir = std::getenv("IPSECCTL_STATE_DIR");
  if (dir != nullptr && *dir != '\0') return dir;
  return "/run/ipsecctl";
}

std::string namespace_name() {
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  std::uint64_t cookie = 0;
  socklen_t len = sizeof cookie;
  if (fd && ::getsockopt(fd.get(), SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) == 0 &&
      len == sizeof cookie)
    return "net-" + std::to_string(cookie);
  struct stat st {};
  if (::stat("/proc/self/ns/net", &st) == 0) return "net-ino-" + std::to_string(st.st_ino);
  return "net-unknown";
}

bool make_directories(const std::string& path) {
  std::string partial;
  std::size_t from = 0;
  while (from <= path.size()) {
    std::size_t slash = path.find('/', from);
    if (slash == std::string::npos) slash = path.size();
    partial = path.substr(0, slash);
    if (!partial.empty() && ::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) return false;
    from = slash + 1;
  }
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace ipsecctl::engine
