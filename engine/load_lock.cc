#include "engine/load_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "engine/state_paths.h"

namespace ipsecctl::engine {

std::string LoadLock::path() { return state_directory() + "/" + namespace_name() + ".lock"; }

std::optional<LoadLock> LoadLock::acquire(Diagnostics& diag, std::chrono::milliseconds patience) {
  make_directories(state_directory());
  const std::string file = path();
  UniqueFd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) {
    // Without /run (or as a user who could not change the kernel anyway),
    // there is nobody to wait for: the kernel will say what it allows.
    if (errno == EACCES || errno == EPERM || errno == ENOENT || errno == EROFS)
      return LoadLock(UniqueFd());
    diag.note("cannot open the lock " + file + ": " + std::strerror(errno));
    return std::nullopt;
  }
  const auto deadline = std::chrono::steady_clock::now() + patience;
  bool announced = false;
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      diag.note("cannot lock " + file + ": " + std::strerror(errno));
      return std::nullopt;
    }
    char holder[32] = {};
    ssize_t n = ::pread(fd.get(), holder, sizeof holder - 1, 0);
    std::string who = n > 0 ? std::string(holder, static_cast<std::size_t>(n)) : "another ipsecctl";
    while (!who.empty() && (who.back() == '\n' || who.back() == ' ')) who.pop_back();
    if (std::chrono::steady_clock::now() >= deadline) {
      diag.note("another ipsecctl (" + who + ") is changing the kernel; gave up waiting after " +
                std::to_string(patience.count() / 1000) + " s; nothing was changed");
      return std::nullopt;
    }
    if (!announced) {
      diag.note("waiting for another ipsecctl (" + who + ") to finish");
      announced = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::string me = "pid " + std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) == 0) (void)!::pwrite(fd.get(), me.data(), me.size(), 0);
  return LoadLock(std::move(fd));
}

}  // namespace ipsecctl::engine
