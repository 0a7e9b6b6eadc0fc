#include "common/signals.h"

#include <cstdio>

namespace ipsecctl {

SignalHold::SignalHold() {
  sigemptyset(&held_);
  sigaddset(&held_, SIGINT);
  sigaddset(&held_, SIGTERM);
  sigaddset(&held_, SIGHUP);
  sigprocmask(SIG_BLOCK, &held_, &previous_);
}

SignalHold::~SignalHold() {
  // What was said about the interruption must reach the user before the
  // signal ends the process.
  std::fflush(stdout);
  std::fflush(stderr);
  sigprocmask(SIG_SETMASK, &previous_, nullptr);
}

std::optional<int> SignalHold::pending() const {
  sigset_t now;
  sigemptyset(&now);
  if (sigpending(&now) != 0) return std::nullopt;
  for (int signo : {SIGTERM, SIGINT, SIGHUP})
    if (sigismember(&now, signo) == 1) return signo;
  return std::nullopt;
}

const char* signal_name(int signo) {
  switch (signo) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    default: return "a signal";
  }
}

}  // namespace ipsecctl
