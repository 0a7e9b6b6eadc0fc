#include "backends/pfkey/pfkey_channel.h"

#include <algorithm>

#include <linux/pfkeyv2.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "backends/pfkey/pfkey_codec.h"

namespace ipsecctl::backends::pfkey {

namespace {

constexpr int kAnswerTimeoutMs = 10000;

std::string describe(int error, const char* what) {
  std::string text = std::string(what) + ": " + std::strerror(error);
  if (error == EPERM || error == EACCES)
    text += " (PF_KEY needs root or CAP_NET_ADMIN)";
  return text;
}

UniqueFd open_socket() {
  UniqueFd fd(::socket(PF_KEY, SOCK_RAW | SOCK_CLOEXEC, PF_KEY_V2));
  if (!fd) {
    int error = errno;
    if (error == EAFNOSUPPORT || error == EPROTONOSUPPORT)
      throw KernelError("PF_KEY is not available in this kernel (CONFIG_NET_KEY, module af_key): " +
                        std::string(std::strerror(error)));
    throw KernelError(describe(error, "cannot open a PF_KEY socket"));
  }
  int size = 8 << 20;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  return fd;
}

// Reads one whole PF_KEY message (the socket keeps message boundaries).
ssize_t read_message(int fd, std::vector<std::uint8_t>& buffer, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  for (;;) {
    int ready = ::poll(&p, 1, timeout_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) throw KernelError("the kernel did not answer on the PF_KEY socket");
    ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw KernelError(describe(errno, "reading from the PF_KEY socket failed"));
    return n;
  }
}

}  // namespace

PfkeyChannel::PfkeyChannel()
    : fd_(open_socket()), pid_(static_cast<std::uint32_t>(::getpid())), buffer_(1 << 16) {}

PfkeyChannel::~PfkeyChannel() = default;

int PfkeyChannel::exchange(const std::vector<std::uint8_t>& message, std::uint32_t seq) {
  if (::send(fd_.get(), message.data(), message.size(), 0) != static_cast<ssize_t>(message.size())) {
    int error = errno;
    // af_key reports a refusal of the message itself as the write's error
    // only for malformed messages; everything else comes as an answer.
    if (error != 0) return error;
  }
  for (;;) {
    ssize_t n = read_message(fd_.get(), buffer_, kAnswerTimeoutMs);
    auto header = decode_header(buffer_.data(), static_cast<std::size_t>(n));
    // Other sockets' broadcasts also arrive here; ours carry our pid.
    if (header && header->pid == pid_ && header->seq == seq) return header->error;
  }
}

template <typename F>
void PfkeyChannel::dump(std::uint8_t type, F&& each) {
  std::vector<std::uint8_t> request;
  std::uint32_t seq = next_seq_++;
  encode_bare(request, type, SADB_SATYPE_UNSPEC, seq, pid_);
  if (::send(fd_.get(), request.data(), request.size(), 0) < 0)
    throw KernelError(describe(errno, "PF_KEY dump request failed"));
  for (;;) {
    ssize_t n = read_message(fd_.get(), buffer_, kAnswerTimeoutMs);
    auto header = decode_header(buffer_.data(), static_cast<std::size_t>(n));
    if (!header || header->pid != pid_ || header->type != type) continue;
    if (header->error == ENOENT) return;  // nothing to dump
    if (header->error != 0) throw KernelError(describe(header->error, "PF_KEY dump failed"));
    each(buffer_.data(), static_cast<std::size_t>(n));
    if (header->seq == 0) return;  // the last entry of a dump has sequence 0
  }
}

void PfkeyChannel::dump_policies(const std::function<void(KernelPolicy&&)>& each) {
  dump(SADB_X_SPDDUMP, [&](const std::uint8_t* data, std::size_t size) {
    if (auto p = decode_policy(data, size)) each(std::move(*p));
  });
}

void PfkeyChannel::dump_states(const std::function<void(KernelState&&)>& each) {
  dump(SADB_DUMP, [&](const std::uint8_t* data, std::size_t size) {
    if (auto s = decode_state(data, size)) each(std::move(*s));
  });
}

// af_key answers every change (an echo to all PF_KEY sockets, or an
// error to the sender), in order: a window of changes is written before
// their answers are read, instead of one round trip each. The answers
// wait in the socket's 8 MiB receive buffer meanwhile.
constexpr std::size_t kChangeWindow = 128;

void PfkeyChannel::pipeline(const std::vector<std::uint8_t>& message, std::uint32_t tag) {
  while (in_flight_.size() >= kChangeWindow) take_answer();
  if (::send(fd_.get(), message.data(), message.size(), 0) != static_cast<ssize_t>(message.size())) {
    // A message af_key cannot even parse is refused by the write itself.
    pending_.failures.push_back({tag, errno != 0 ? errno : EIO, {}});
    return;
  }
  in_flight_.push_back(tag);
}

void PfkeyChannel::take_answer() {
  for (;;) {
    ssize_t n = read_message(fd_.get(), buffer_, kAnswerTimeoutMs);
    auto header = decode_header(buffer_.data(), static_cast<std::size_t>(n));
    // Other sockets' broadcasts also arrive here; ours carry our pid.
    if (!header || header->pid != pid_) continue;
    auto it = std::find(in_flight_.begin(), in_flight_.end(), header->seq);
    if (it == in_flight_.end()) continue;
    if (header->error != 0) pending_.failures.push_back({header->seq, header->error, {}});
    in_flight_.erase(it);
    return;
  }
}

void PfkeyChannel::queue_policy(ChangeKind kind, const KernelPolicy& policy, std::uint32_t tag) {
  std::vector<std::uint8_t> message;
  encode_policy_change(message, kind, policy, tag, pid_);
  pipeline(message, tag);
}

void PfkeyChannel::queue_state(ChangeKind kind, const KernelState& state, std::uint32_t tag) {
  std::vector<std::uint8_t> message;
  encode_state_change(message, kind, state, tag, pid_);
  pipeline(message, tag);
}

SendOutcome PfkeyChannel::send() {
  while (!in_flight_.empty()) take_answer();
  SendOutcome outcome = std::move(pending_);
  pending_ = SendOutcome{};
  return outcome;
}

void PfkeyChannel::flush_all() {
  for (std::uint8_t type : {std::uint8_t{SADB_X_SPDFLUSH}, std::uint8_t{SADB_FLUSH}}) {
    std::vector<std::uint8_t> message;
    std::uint32_t seq = next_seq_++;
    encode_bare(message, type, SADB_SATYPE_UNSPEC, seq, pid_);
    int error = exchange(message, seq);
    if (error != 0 && error != ENOENT)
      throw KernelError(describe(error, type == SADB_FLUSH ? "flushing the SAD failed"
                                                           : "flushing the SPD failed"));
  }
}

void PfkeyChannel::monitor(const std::function<bool(const MonitorEvent&)>& each) {
  // Registered sockets receive the kernel's ACQUIREs; a promiscuous one
  // also sees every message other sockets exchange.
  for (std::uint8_t satype : {std::uint8_t{SADB_SATYPE_ESP}, std::uint8_t{SADB_SATYPE_AH},
                              std::uint8_t{SADB_X_SATYPE_IPCOMP}}) {
    std::vector<std::uint8_t> message;
    std::uint32_t seq = next_seq_++;
    encode_bare(message, SADB_REGISTER, satype, seq, pid_);
    if (int error = exchange(message, seq))
      throw KernelError(describe(error, "SADB_REGISTER failed"));
  }
  std::vector<std::uint8_t> promisc;
  encode_bare(promisc, SADB_X_PROMISC, 1, next_seq_++, pid_);
  if (::send(fd_.get(), promisc.data(), promisc.size(), 0) < 0)
    throw KernelError(describe(errno, "SADB_X_PROMISC failed"));
  for (;;) {
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, -1) < 0) {
      if (errno == EINTR) return;
      throw KernelError(describe(errno, "waiting on the PF_KEY socket failed"));
    }
    ssize_t n = ::recv(fd_.get(), buffer_.data(), buffer_.size(), 0);
    if (n < 0) {
      if (errno == EINTR) return;
      throw KernelError(describe(errno, "reading from the PF_KEY socket failed"));
    }
    auto header = decode_header(buffer_.data(), static_cast<std::size_t>(n));
    // Our own set-up messages echoed back are not news.
    if (header && header->pid == pid_) continue;
    if (!each(decode_event(buffer_.data(), static_cast<std::size_t>(n)))) return;
  }
}

std::optional<std::string> PfkeyChannel::check_state(const KernelState& state) const {
  return pfkey::check_state(state);
}

void PfkeyChannel::normalize(KernelState& state) const { pfkey::normalize(state); }

void PfkeyChannel::normalize(KernelPolicy& policy) const { pfkey::normalize(policy); }

}  // namespace ipsecctl::backends::pfkey
