// What a load is asked and what it answers: the options of a session, one
// load's request (the file, the action, the mode) and its result (the
// compiled plan and what changed). Shared by the session (engine/session)
// and the load sequence (engine/load_run), neither of which needs the
// other's header for them.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "backends/changes.h"
#include "backends/registry.h"
#include "compiler/compile_config.h"

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

}  // namespace ipsecctl::engine
