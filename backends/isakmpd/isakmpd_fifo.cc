#include "backends/isakmpd/isakmpd_fifo.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "compiler/isakmpd_commands.h"

namespace ipsecctl::backends {

namespace {

class OwnedFd {
 public:
  explicit OwnedFd(int fd) : fd_(fd) {}
  ~OwnedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string errno_text() { return std::strerror(errno); }

}  // namespace

bool IsakmpdFifoBackend::present(const std::string& fifo) {
  struct stat st;
  return ::stat(fifo.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
}

bool IsakmpdFifoBackend::apply(const compiler::Plan& plan, Action action) {
  if (plan.ikes.empty()) return true;
  // All commands first: a rule the generator refuses stops everything
  // before a byte reaches the daemon.
  std::string text;
  bool refused = false;
  for (const compiler::IkeEntry& rule : plan.ikes) {
    auto commands = action == Action::Add ? compiler::isakmpd_add_commands(rule)
                                          : compiler::isakmpd_delete_commands(rule);
    if (commands.error) {
      diag_.error_at(rule.origin, *commands.error);
      refused = true;
    }
    text += commands.text;
  }
  if (refused) {
    diag_.note("nothing was sent to isakmpd");
    return false;
  }

  const auto deadline = std::chrono::steady_clock::now() + patience_;
  int fd = -1;
  for (;;) {
    fd = ::open(fifo_.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) break;
    if (errno != ENXIO) {  // ENXIO: a fifo nobody reads (yet)
      diag_.note("ike_ipsec_establish: open(" + fifo_ + "): " + errno_text());
      return false;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      diag_.note("no isakmpd is reading " + fifo_ + " (waited " +
                 std::to_string(patience_.count()) + " ms); nothing was sent");
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  OwnedFd owned(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    diag_.note("ike_ipsec_establish: fstat(" + fifo_ + "): " + errno_text());
    return false;
  }
  if (!S_ISFIFO(st.st_mode)) {
    diag_.note("ike_ipsec_establish: " + fifo_ + " not a fifo");
    return false;
  }
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      diag_.note("writing to " + fifo_ + " failed after " + std::to_string(done) + " of " +
                 std::to_string(text.size()) + " bytes: " + errno_text());
      return false;
    }
    // The daemon reads at its own pace; give up only when it makes no
    // progress for a whole period of patience.
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(patience_.count())) <= 0) {
      diag_.note("isakmpd stopped reading " + fifo_ + " after " + std::to_string(done) + " of " +
                 std::to_string(text.size()) + " bytes");
      return false;
    }
  }
  return true;
}

}  // namespace ipsecctl::backends
