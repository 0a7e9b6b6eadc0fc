// The wire-specific half of a kernel backend: how SPD and SAD entries are
// read, written and watched over one kind of socket (XFRM netlink,
// PF_KEY v2). Everything else (lowering, diffing, rollback, printing) is
// shared and lives in channel_backend.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "backends/kernel_error.h"
#include "backends/kernel_objects.h"
#include "backends/snapshot.h"

namespace ipsecctl::backends {

enum class ChangeKind : std::uint8_t {
  AddPolicy, UpdatePolicy, DeletePolicy, AddState, DeleteState
};

// A change the kernel refused, by the tag it was queued with.
struct ChangeFailure {
  std::uint32_t tag = 0;
  int error = 0;              // errno
  std::string kernel_message; // extended ack text, when the kernel gave one
};

struct SendOutcome {
  std::vector<ChangeFailure> failures;
  // The kernel's answers overflowed the socket (ENOBUFS): some failures
  // may be missing, so callers must assume any change may have failed.
  bool answers_lost = false;
};

class KernelChannel {
 public:
  virtual ~KernelChannel() = default;
  virtual std::string name() const = 0;

  // Calls `each` once per entry; throws KernelError.
  virtual void dump_policies(const std::function<void(KernelPolicy&&)>& each) = 0;
  virtual void dump_states(const std::function<void(KernelState&&)>& each) = 0;

  // Changes are queued, sent in large writes, and confirmed together by
  // send(); each failure names the tag its change was queued with.
  virtual void queue_policy(ChangeKind kind, const KernelPolicy& policy, std::uint32_t tag) = 0;
  virtual void queue_state(ChangeKind kind, const KernelState& state, std::uint32_t tag) = 0;
  virtual SendOutcome send() = 0;

  virtual void flush_all() = 0;  // SPD and SAD

  // The policy with the identity (selector and direction) of `like`, as
  // the kernel holds it, or nullopt when it holds none: a few policies
  // are read this way instead of dumping 10^5. Only where
  // can_get_policy(); never while changes are queued and not yet sent.
  virtual bool can_get_policy() const { return false; }
  virtual std::optional<KernelPolicy> get_policy(const KernelPolicy&) { return std::nullopt; }

  // What this interface cannot express (refused before anything is sent).
  virtual std::optional<std::string> check_state(const KernelState&) const { return std::nullopt; }
  // Entries as a dump through this interface will read them back, so that
  // comparing plan and kernel sees no false differences.
  virtual void normalize(KernelState&) const {}
  virtual void normalize(KernelPolicy&) const {}
  // Blocks, calling `each` per event, until `each` returns false or the
  // process is interrupted.
  virtual void monitor(const std::function<bool(const MonitorEvent&)>& each) = 0;
};

}  // namespace ipsecctl::backends
