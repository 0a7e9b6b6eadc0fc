// The run as a library: what `ipsecctl -n`, `-f`, `--diff -f`, `-d -f`,
// `-F`, `-s` and `-m` do. cli/ turns options into one call to this and
// output/ renders what comes back, as nft's front end does over
// libnftables. No exception leaves it: failures are reported through
// Diagnostics and returned as false or nullopt.
//
// A load (load()) owns the whole sequence: the lock, the records, the
// compile, and, where they pay, reading the kernel while the file compiles
// (a reload) or sending to it while the file compiles (a large first
// load); then the kernel part, the daemon part, and undo across both when
// the daemon refuses its part. A dry run (--diff) is the same path with
// nothing sent. See engine/load_run.h.
//
// Loading is also a sync: each file's record (engine/ownership_store)
// says what an earlier load of it put in the kernel and the daemon, and
// what left the file leaves them in the same all-or-nothing step. -F
// empties the kernel and takes out of the daemon what ipsecctl loaded
// into it, so that a daemon never holds tunnels whose kernel state is
// gone (it would believe them up and never start them again).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/registry.h"
#include "backends/vici/vici_config.h"
#include "common/diagnostics.h"
#include "compiler/compile_config.h"
#include "compiler/resolver.h"

namespace ipsecctl::engine {

struct SessionOptions {
  std::string kernel = "xfrm";  // a name from backends::kernel_interfaces()
  std::string ike = "auto";     // "auto" or a name from backends::ike_daemons()
  backends::DaemonEndpoints endpoints;
  // How long to wait for another ipsecctl that is changing the kernel.
  std::chrono::milliseconds lock_patience = std::chrono::seconds(60);
  // --wait: after a load, how long to wait for its tunnels to come up.
  std::optional<std::chrono::seconds> wait;
  // --wait-daemon: how long a load of ike rules waits for an IKE daemon
  // to answer (one that is still starting, at boot or after a restart).
  std::chrono::seconds daemon_patience{0};
};

enum class LoadMode {
  Check,  // -n: compile only
  Load,   // -f (or -d -f): change the kernel and the daemon
  Diff,   // --diff: compare with them, change nothing
};

struct LoadRequest {
  compiler::CompileRequest compile;  // the file, defines, -v listener, ...
  backends::Action action = backends::Action::Add;
  LoadMode mode = LoadMode::Load;
  // Keep each changed entry (for --diff and -v), not only the counts.
  bool list_changes = false;
  // --as FILE: the records are FILE's, as if the file had been read from
  // there (a staged copy checked, or loaded, in place of the live one).
  std::string record_as;
};

struct LoadResult {
  bool ok = false;
  compiler::CompileResult compiled;
  // What changed (or, for Diff, would change): the kernel's, then the
  // daemon's when there is one.
  std::vector<backends::BackendChanges> changes;
  bool changed() const {
    for (const auto& c : changes)
      if (c.any()) return true;
    return false;
  }
};

class Session {
 public:
  Session(SessionOptions options, Diagnostics& diagnostics, compiler::Resolver& resolver);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // The result is filled in place: -v listeners may watch its plan grow.
  void load(const LoadRequest& request, LoadResult& result);

  // What a load of `plan` gives strongSwan's charon, found without asking
  // it (--format swanctl); nullopt after naming each rule it cannot take.
  std::optional<std::vector<backends::vici::ViciConnection>> charon_configuration(
      const compiler::Plan& plan);

  bool flush();
  std::optional<backends::KernelSnapshot> kernel_snapshot(bool policies, bool states);
  // The SAs of the IKE daemon that answers; nullopt when none does (not an error).
  std::optional<backends::IkeSnapshot> ike_snapshot();
  bool watch(const std::function<bool(const backends::MonitorEvent&)>& each);
  // The kernel interface's name ("XFRM", "PF_KEY"), for raw dumps.
  std::string kernel_name();
  // When each file was last loaded successfully.
  std::vector<std::pair<std::string, std::chrono::system_clock::time_point>> load_times();

  // For the load sequence (engine/load_run): the kernel backend, opened on
  // first use; nullptr after reporting why it cannot be (or, with
  // `report` false, without a word: a later call reports it).
  backends::KernelBackend* kernel(bool report = true);
  // The daemon that will take ike rules: the one --ike names, or the first
  // of the registry that answers.
  std::unique_ptr<backends::IkeBackend> ike_daemon();
  // Why none was found, for messages.
  std::string ike_daemons_looked_for() const;
  const SessionOptions& options() const { return options_; }
  Diagnostics& diagnostics() { return diag_; }
  compiler::Resolver& resolver() { return resolver_; }

 private:
  SessionOptions options_;
  Diagnostics& diag_;
  compiler::Resolver& resolver_;
  std::unique_ptr<backends::KernelBackend> kernel_;  // opened on first use
};

}  // namespace ipsecctl::engine
