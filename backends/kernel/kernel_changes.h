// A kernel load's list of changes and how it travels: queued on the
// channel with its index as the tag (so a refusal names its change, and
// through it its rule), confirmed by one send(), asked between batches
// whether to stop, and taken back newest first.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "backends/kernel/kernel_channel.h"

namespace ipsecctl::backends {

struct Change {
  ChangeKind kind;
  std::uint32_t ref;      // index into the load's desired (or stale) policies or states
  bool original = false;  // send the kernel's own entry (undo), not the plan's
  bool stale = false;     // an entry an earlier load of the file added, now gone from it
};

bool is_policy(ChangeKind kind);
// Failures that leave the kernel as the change wanted it anyway: an entry
// to remove is already gone. An entry to add that exists is not one: the
// kernel was read before, so another program added it meanwhile, and
// keeping its version while reporting success would hide that.
bool harmless(ChangeKind kind, int error);
const char* change_verb(ChangeKind kind);  // "add", "update", "remove"
// What the user should know about a refusal, after the errno text.
std::string refusal_hint(ChangeKind kind, int error);

// What a change refers to, as it is to be sent.
class ChangeEntries {
 public:
  virtual ~ChangeEntries() = default;
  virtual KernelPolicy policy_of(const Change& change) const = 0;
  virtual const KernelState& state_of(const Change& change) const = 0;
};

// What one send of a list of changes came to.
struct SentChanges {
  SendOutcome outcome;
  std::size_t count = 0;  // changes [0, count) reached the kernel
  bool stopped = false;   // a stop was asked for before the end
};

// How often (in changes) a load asks whether to stop: a few milliseconds
// of kernel work.
constexpr std::uint32_t kStopCheckInterval = 1024;

// Queues list[first, end) (the ones before went out earlier, with their
// own indices as tags); the outcome is left for the channel's send().
SentChanges queue_changes(KernelChannel& channel, const ChangeEntries& entries,
                          const std::vector<Change>& list, std::size_t first,
                          const std::function<bool()>& stop);
// The same, then confirms everything queued with one send().
SentChanges send_changes(KernelChannel& channel, const ChangeEntries& entries,
                         const std::vector<Change>& list, std::size_t first,
                         const std::function<bool()>& stop);
// Which changes are in effect now. When the kernel's answers were lost,
// every change sent counts (undoing one that did not take is harmless).
std::vector<bool> in_effect(const std::vector<Change>& changes, const SentChanges& sent);
// The changes that take back those of `changes` that took effect, newest
// first. Only this run's own changes are undone: one the kernel refused
// (an entry another program added meanwhile) is left alone.
std::vector<Change> undo_of(const std::vector<Change>& changes, const std::vector<bool>& took_effect);

}  // namespace ipsecctl::backends
