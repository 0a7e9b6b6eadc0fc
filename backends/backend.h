// The interfaces every target implements. A backend is chosen at run
// time: a kernel (XFRM netlink, PF_KEY) or an IKE daemon (isakmpd, charon
// over VICI).
//
// apply() loads a plan all or nothing: when any change fails, the changes
// this run made are undone and every failure names its rule (file:line).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "backends/ownership.h"
#include "backends/snapshot.h"
#include "compiler/plan.h"

namespace ipsecctl::backends {

enum class Action { Add, Delete };

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // Adds (or removes) the part of the plan this backend is responsible
  // for, in step with what the scope says an earlier load of the same
  // file put in place. Returns false after reporting what failed.
  virtual bool apply(const compiler::Plan& plan, Action action, const SyncScope& scope) = 0;

  // Asked between batches while apply() changes things: true means stop
  // (a signal arrived); apply() then undoes what it did and fails.
  void set_stop_check(std::function<bool()> check) { stop_check_ = std::move(check); }

 protected:
  bool should_stop() const { return stop_check_ && stop_check_(); }

 private:
  std::function<bool()> stop_check_;
};

// An IKE daemon: it takes the plan's ike rules and can list its SAs.
class IkeBackend : public Backend {
 public:
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
};

// A backend that owns the kernel's databases: it can also flush them,
// read them back and watch them change.
class KernelBackend : public Backend {
 public:
  virtual bool flush() = 0;
  // What the kernel holds now; nullopt after reporting a failure.
  virtual std::optional<KernelSnapshot> snapshot(bool policies, bool states) = 0;
  // Calls `each` per event until it returns false or the process is
  // interrupted; returns false on failure.
  virtual bool watch(const std::function<bool(const MonitorEvent&)>& each) = 0;
  // Names the wire format ("XFRM", "PF_KEY") in raw dumps.
  virtual std::string wire_name() const = 0;
  // Takes back the last successful apply() (when a later part of the same
  // load failed). Returns false after reporting what could not be undone.
  virtual bool undo_last() = 0;

  // Loading while the plan is still being compiled (adding only, a plan of
  // flows: no SAs, bundles or ike rules). begin_streaming() reads what the
  // kernel holds; stream_flow() is told of each flow as the compiler adds
  // it to `plan` and may send it at once; finish_streaming() sends the
  // rest and confirms everything, with apply()'s all-or-nothing outcome
  // (if the plan gained SAs after all, it loads it with apply());
  // abandon_streaming() takes back what went out (the compile failed).
  // `scope` must stay valid until the end. `expected_flows` is how many
  // flow rules the file has (its first pass counted them): the load's
  // bookkeeping is sized once, as growing it 10^5 entries at a time
  // touches twice the memory, and on a virtual machine a fresh page costs
  // about as much as a kernel policy does.
  // Reads what the kernel holds for the next apply() (adding, with this
  // `scope`), so that the caller can do it in a thread of its own while
  // the plan is compiled. Changes nothing; a failure is reported by that
  // apply(). Thread-safe against nothing else: the caller joins first.
  virtual void prefetch(const SyncScope& scope) = 0;
  virtual bool begin_streaming(const compiler::Plan& plan, const SyncScope& scope,
                               std::size_t expected_flows) = 0;
  virtual void stream_flow(std::uint32_t flow_index) = 0;
  virtual bool finish_streaming() = 0;
  virtual bool abandon_streaming() = 0;
};

}  // namespace ipsecctl::backends
