// isakmpd's command fifo as a backend: `ike` rules become the very text
// `ipsecctl -nv` prints (compiler/isakmpd_commands), written to the fifo
// in one go (or, with -d, the teardown commands). The teardown commands
// of each rule are recorded, so that a reload tears down the rules that
// left the file and -F those of every file.
//
// The path must be a fifo, and a daemon must be reading it: opening a
// fifo for writing blocks until a reader appears, so it is opened
// non-blocking and retried until a deadline, and every write waits a
// bounded time for room. No daemon gives a clear error within seconds.
//
// isakmpd cannot be asked what it holds, so what a load changes is told
// from the file's record: a rule whose commands differ from the ones
// recorded changed (every rule's commands are sent again all the same,
// as OpenBSD does: isakmpd takes them as they come).
#pragma once

#include <chrono>
#include <string>

#include "backends/backend.h"
#include "common/diagnostics.h"

namespace ipsecctl::backends {

class IsakmpdFifoBackend final : public IkeBackend {
 public:
  IsakmpdFifoBackend(std::string fifo, Diagnostics& diagnostics,
                     std::chrono::milliseconds patience = std::chrono::seconds(3))
      : IkeBackend(diagnostics), fifo_(std::move(fifo)), patience_(patience) {}

  std::string name() const override { return "isakmpd"; }
  bool apply(const compiler::Plan& plan, Action action, const SyncScope& scope,
             const LoadSettings& settings, BackendChanges& changes) override;
  bool remove_owned(const OwnedEntries& owned) override;
  bool wait_for_tunnels(std::chrono::seconds patience) override;

  // Whether the path names a fifo (a daemon may or may not read it).
  static bool present(const std::string& fifo);

 private:
  // Writes the commands to the fifo; false after a note.
  bool send(const std::string& text);

  std::string fifo_;
  std::chrono::milliseconds patience_;
};

}  // namespace ipsecctl::backends
