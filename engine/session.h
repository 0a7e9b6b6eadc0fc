// The run sequence across backends, as a library: what `ipsecctl -f`,
// `-d -f`, `-F`, `-s` and `-m` do once the configuration is compiled.
// cli/ only turns options into calls to this, and output/ renders what it
// returns.
//
// Loading is all or nothing across backends: the IKE daemon is found
// before the kernel is touched, the kernel part goes first, and when the
// daemon refuses its part, the kernel part of the same run is undone.
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
#include "common/diagnostics.h"
#include "common/signals.h"
#include "compiler/plan.h"
#include "compiler/resolver.h"
#include "compiler/rule_compiler.h"
#include "engine/ownership_store.h"

namespace ipsecctl::engine {

struct SessionOptions {
  std::string kernel = "xfrm";  // a name from backends::kernel_interfaces()
  std::string ike = "auto";     // "auto" or a name from backends::ike_daemons()
  backends::DaemonEndpoints endpoints;
  // How long to wait for another ipsecctl that is changing the kernel.
  std::chrono::milliseconds lock_patience = std::chrono::seconds(60);
  // --wait: after a load, how long to wait for its tunnels to come up.
  std::optional<std::chrono::seconds> wait;
};

class Session {
 public:
  Session(SessionOptions options, Diagnostics& diagnostics, compiler::Resolver& resolver);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // -f (Add) or -d -f (Delete) of the file `source` (its canonical path,
  // as OwnershipStore::source_of gives it). Returns false after
  // reporting why.
  bool apply(const compiler::Plan& plan, backends::Action action, const std::string& source);
  // Before compiling a file that apply() is to add: takes the lock, reads
  // the records, and reads the kernel in a thread of its own while the
  // caller compiles; apply() of the same source then starts from there.
  // Only for a regular file: the lock is held meanwhile, and nobody should
  // wait for somebody typing into standard input. Changes nothing. False
  // after reporting that the lock could not be had.
  bool prepare_apply(const std::string& path, const std::string& source);
  // -f of a large file of flows only, sent to the kernel while it is
  // compiled. `compile` runs the compiler into `plan` with the listener it
  // is given and says whether it succeeded. Beside it, a first pass
  // (engine/first_pass) reads the whole of `path` for syntax only; the
  // flows go out once it has found the file clean, of flow rules only and
  // at least kStreamingFlows of them (until then, and if it never does,
  // they only gather in the plan), so that a syntax error never touches
  // the kernel. An error the compile finds later takes back what went out.
  enum class Streamed {
    Loaded,
    LoadFailed,     // reported; the kernel is as it was
    CompileFailed,  // the compile reported errors; the kernel is as it was
    NotStarted,     // nothing compiled: load the ordinary way
    Compiled,       // compiled, nothing loaded: load the plan with apply()
  };
  using Compile = std::function<bool(compiler::RuleListener* streaming)>;
  Streamed load_while_compiling(const compiler::Plan& plan, const Compile& compile,
                                const std::string& path, const std::vector<std::string>& defines,
                                const std::string& source);
  // Whether a -f of `path` (known as `source`) may use
  // load_while_compiling(): a first load (no record of an earlier one: a
  // reload mostly finds what is there already) of a regular file large
  // enough to hold kStreamingFlows flow rules. Reads nothing of the file.
  bool may_stream(const std::string& path, const std::string& source);
  static constexpr std::size_t kStreamingFlows = 1024;

  bool flush();
  std::optional<backends::KernelSnapshot> kernel_snapshot(bool policies, bool states);
  // The SAs of the IKE daemon that answers; nullopt when none does (not an error).
  std::optional<backends::IkeSnapshot> ike_snapshot();
  bool watch(const std::function<bool(const backends::MonitorEvent&)>& each);
  std::string kernel_wire_name();

 private:
  backends::KernelBackend& kernel();
  // The daemon that will take ike rules: the one --ike names, or the first
  // of the registry that answers.
  std::unique_ptr<backends::IkeBackend> ike_daemon();
  std::string ike_daemons_looked_for() const;
  // Reports a signal that arrived during apply(); returns `ok`.
  bool interrupted(const SignalHold& hold, bool ok);
  // `ike ... interface secN` needs an XFRM interface with if_id N: says
  // which is missing (and the command that makes it) before anything
  // is loaded.
  bool check_sec_interfaces(const compiler::Plan& plan);
  // The locked part of apply(): kernel, daemon, record.
  bool apply_locked(const compiler::Plan& plan, backends::Action action, const std::string& source,
                    backends::IkeBackend* ike, OwnershipStore& store,
                    const backends::OwnedEntries& previous, const backends::OwnedEntries& others);

  SessionOptions options_;
  Diagnostics& diag_;
  compiler::Resolver& resolver_;
  std::unique_ptr<backends::KernelBackend> kernel_;  // opened on first use
  struct Prepared;                        // what prepare_apply() began
  std::unique_ptr<Prepared> prepared_;    // (declared last: it goes first)
};

}  // namespace ipsecctl::engine
