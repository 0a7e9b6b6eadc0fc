// The interfaces every target implements. A backend is chosen at run
// time: a kernel (XFRM netlink, PF_KEY) or an IKE daemon (isakmpd, charon
// over VICI).
//
// A load is all or nothing: when any change fails, the changes this run
// made are undone and every failure names its rule (file:line). It is
// also a sync (SyncScope): what an earlier load of the same file put in
// place and the file no longer has goes in the same step. With
// LoadSettings::dry_run the same comparison runs and nothing is sent:
// the BackendChanges say what a load would do.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "backends/changes.h"
#include "backends/kernel_error.h"
#include "backends/ownership.h"
#include "backends/snapshot.h"
#include "common/diagnostics.h"
#include "compiler/plan.h"

namespace ipsecctl::backends {

enum class Action { Add, Delete };

struct LoadSettings {
  bool dry_run = false;       // compare only, send nothing (--diff)
  bool list_changes = false;  // keep each changed entry for the report (--diff, -v)
  // How many flow rules the file has, when a first pass counted them: the
  // load's bookkeeping is sized once (growing it 10^5 entries at a time
  // touches twice the memory, and a fresh page costs about as much as a
  // kernel policy does).
  std::size_t expected_flows = 0;
  // Asked between batches while changes go out: true means stop (a signal
  // arrived); the load then undoes what it did and fails.
  std::function<bool()> stop;
};

// One load of a plan into the kernel. It is fed the plan's flows as the
// compiler adds them (add_flow) and finished once; the ordinary load feeds
// them all and finishes, a streamed one is fed while the file is still
// being compiled, after learn_kernel() and send_early().
class KernelLoad {
 public:
  virtual ~KernelLoad() = default;
  // Reads what the kernel holds. May run in a thread of its own while the
  // compile fills the plan, provided nothing else calls this object until
  // it returns. A failure is reported by apply().
  virtual void learn_kernel() = 0;
  // From now on add_flow() sends each new policy between two single hosts
  // at once (the kernel hashes those, so their order costs nothing). Only
  // after learn_kernel(), when adding and not a dry run.
  virtual void send_early() = 0;
  // The plan's flow `index` is complete (each once, in the plan's order).
  virtual void add_flow(std::uint32_t index) = 0;
  // Feeds the flows not fed yet, checks what the kernel cannot express,
  // compares with the kernel, and sends what differs (stale entries
  // first, SAs, then policies widest first); records in the scope what
  // the file will own and makes the report, all while the kernel may
  // still be inserting. False after reporting (nothing more was sent).
  virtual bool apply() = 0;
  // Waits for the kernel's answers to everything apply() sent. When it
  // refused anything, reports it, undoes the load, and takes the record
  // and the report back. False then.
  virtual bool confirm() = 0;
  // Takes back what this load changed: a confirmed load when a later
  // backend of the same run failed, or what went out early when the
  // compile failed. False after reporting what could not be undone.
  virtual bool undo() = 0;
  // What apply() changes (or would change, in a dry run).
  virtual const BackendChanges& changes() const = 0;
};

// A backend that owns the kernel's databases: it loads, and it can also
// flush them, read them back and watch them change.
class KernelBackend {
 public:
  virtual ~KernelBackend() = default;
  virtual std::string name() const = 0;
  // `plan` and `scope` must outlive the load.
  virtual std::unique_ptr<KernelLoad> begin_load(const compiler::Plan& plan, Action action,
                                                 const SyncScope& scope,
                                                 const LoadSettings& settings) = 0;
  virtual bool flush() = 0;
  // What the kernel holds now; nullopt after reporting a failure.
  virtual std::optional<KernelSnapshot> snapshot(bool policies, bool states) = 0;
  // Calls `each` per event until it returns false or the process is
  // interrupted; returns false on failure.
  virtual bool watch(const std::function<bool(const MonitorEvent&)>& each) = 0;
};

// An IKE daemon: it takes the plan's ike rules and can list its SAs.
class IkeBackend {
 public:
  explicit IkeBackend(Diagnostics& diagnostics) : diag_(diagnostics) {}
  virtual ~IkeBackend() = default;
  virtual std::string name() const = 0;
  // What must be true before anything is loaded (an XFRM interface for
  // `interface secN`, say). False after naming each rule that cannot go.
  virtual bool preflight(const compiler::Plan& plan);
  // Adds (or removes) the plan's ike rules, in step with `scope`, and says
  // in `changes` what changed (or, in a dry run, would). False after
  // reporting what failed; what this run sent is taken back.
  virtual bool apply(const compiler::Plan& plan, Action action, const SyncScope& scope,
                     const LoadSettings& settings, BackendChanges& changes) = 0;
  // The IKE SAs the daemon holds; nullopt when it cannot say (isakmpd's
  // fifo only takes commands) or after reporting a failure.
  virtual std::optional<IkeSnapshot> ike_sas() { return std::nullopt; }
  // -F: takes out of the daemon what ipsecctl loaded into it (the daemon
  // entries of every file's record), with their SAs. False after a note.
  virtual bool remove_owned(const OwnedEntries& owned) = 0;
  // --wait: waits until the tunnels the last apply() started are up;
  // false after naming each one that is not, with the daemon's reasons.
  // Nothing is unloaded either way.
  virtual bool wait_for_tunnels(std::chrono::seconds patience) = 0;
  // Called before apply() when wait_for_tunnels() will follow, so that the
  // daemon's account of the very first attempts is heard too.
  virtual void listen_before_apply() {}

 protected:
  Diagnostics& diag_;
};

}  // namespace ipsecctl::backends
