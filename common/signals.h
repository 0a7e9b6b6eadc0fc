// Holding off SIGINT, SIGTERM and SIGHUP while the kernel or a daemon is
// being changed.
//
// A load or a removal is all or nothing: a signal in the middle must not
// leave half of it behind. While a SignalHold lives, those signals stay
// pending instead of killing the process; the work asks pending() between
// batches and, when one is there, finishes its rollback (or its commit,
// when that is already complete), says so, and lets the signal take its
// course when the hold ends. Streams are flushed first, so nothing
// printed is lost.
#pragma once

#include <csignal>
#include <optional>

namespace ipsecctl {

class SignalHold {
 public:
  SignalHold();
  ~SignalHold();
  SignalHold(const SignalHold&) = delete;
  SignalHold& operator=(const SignalHold&) = delete;

  // The held signal waiting to be delivered, if any.
  std::optional<int> pending() const;

 private:
  sigset_t held_;
  sigset_t previous_;
};

// "SIGTERM" for messages.
const char* signal_name(int signo);

}  // namespace ipsecctl
