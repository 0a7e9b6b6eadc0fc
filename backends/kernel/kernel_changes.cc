#include "backends/kernel/kernel_changes.h"

#include <cerrno>

namespace ipsecctl::backends {

bool is_policy(ChangeKind kind) {
  return kind == ChangeKind::AddPolicy || kind == ChangeKind::UpdatePolicy ||
         kind == ChangeKind::DeletePolicy;
}

bool harmless(ChangeKind kind, int error) {
  return (kind == ChangeKind::DeletePolicy || kind == ChangeKind::DeleteState) &&
         (error == ENOENT || error == ESRCH);
}

const char* change_verb(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::AddPolicy:
    case ChangeKind::AddState: return "add";
    case ChangeKind::UpdatePolicy: return "update";
    case ChangeKind::DeletePolicy:
    case ChangeKind::DeleteState: return "remove";
  }
  return "change";
}

std::string refusal_hint(ChangeKind kind, int error) {
  if (error == EEXIST && (kind == ChangeKind::AddPolicy || kind == ChangeKind::AddState))
    return " (another program added it while this load ran)";
  if (error == EPROTONOSUPPORT && !is_policy(kind))
    return " (this kernel has no support for the SA's protocol: modules esp4/esp6, "
           "ah4/ah6 or ipcomp/ipcomp6)";
  if (error == ENOSYS || (error == ENOENT && kind == ChangeKind::AddState))
    return " (this kernel does not provide the algorithm)";
  if (error == EPERM) return " (needs root or CAP_NET_ADMIN)";
  return "";
}

SentChanges send_changes(KernelChannel& channel, const ChangeEntries& entries,
                         const std::vector<Change>& list, std::size_t first,
                         const std::function<bool()>& stop) {
  SentChanges sent = queue_changes(channel, entries, list, first, stop);
  sent.outcome = channel.send();
  return sent;
}

SentChanges queue_changes(KernelChannel& channel, const ChangeEntries& entries,
                          const std::vector<Change>& list, std::size_t first,
                          const std::function<bool()>& stop) {
  SentChanges sent;
  sent.count = first;
  for (std::size_t tag = first; tag < list.size(); ++tag) {
    if (stop && tag != first && (tag - first) % kStopCheckInterval == 0 && stop()) {
      sent.stopped = true;
      break;
    }
    const Change& c = list[tag];
    if (is_policy(c.kind))
      channel.queue_policy(c.kind, entries.policy_of(c), static_cast<std::uint32_t>(tag));
    else
      channel.queue_state(c.kind, entries.state_of(c), static_cast<std::uint32_t>(tag));
    sent.count = tag + 1;
  }
  return sent;
}

std::vector<bool> in_effect(const std::vector<Change>& changes, const SentChanges& sent) {
  std::vector<bool> effect(changes.size(), false);
  for (std::size_t i = 0; i < sent.count && i < changes.size(); ++i) effect[i] = true;
  if (!sent.outcome.answers_lost)
    for (const ChangeFailure& f : sent.outcome.failures)
      if (f.tag < effect.size()) effect[f.tag] = false;
  return effect;
}

std::vector<Change> undo_of(const std::vector<Change>& changes, const std::vector<bool>& took_effect) {
  std::vector<Change> undo;
  undo.reserve(changes.size());
  for (std::size_t i = changes.size(); i-- > 0;) {
    if (!took_effect[i]) continue;
    const Change& c = changes[i];
    switch (c.kind) {
      case ChangeKind::AddPolicy: undo.push_back({ChangeKind::DeletePolicy, c.ref, false, c.stale}); break;
      case ChangeKind::UpdatePolicy: undo.push_back({ChangeKind::UpdatePolicy, c.ref, true, c.stale}); break;
      case ChangeKind::DeletePolicy: undo.push_back({ChangeKind::AddPolicy, c.ref, true, c.stale}); break;
      case ChangeKind::AddState: undo.push_back({ChangeKind::DeleteState, c.ref, false, c.stale}); break;
      case ChangeKind::DeleteState: undo.push_back({ChangeKind::AddState, c.ref, true, c.stale}); break;
    }
  }
  return undo;
}

}  // namespace ipsecctl::backends
