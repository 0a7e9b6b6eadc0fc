#include "backends/kernel/channel_backend.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "backends/kernel/kernel_show.h"
#include "backends/kernel/lower_plan.h"
#include "compiler/rule_text.h"

namespace ipsecctl::backends {

using compiler::FlowEntry;
using compiler::Plan;

namespace {

enum class Presence : std::uint8_t { Absent, Same, Differs, Duplicate };

// One policy the plan asks for, kept small (32 bytes) so that 10^5 flows
// cost a few MiB; the policy itself is lowered again when it is sent.
struct DesiredPolicy {
  Fingerprint id;
  std::uint64_t content = 0;
  std::uint32_t flow = 0;
  std::uint8_t sub = 0;
  Presence presence = Presence::Absent;
  std::uint16_t specificity = 0;
};

struct Change {
  ChangeKind kind;
  std::uint32_t ref;      // index into the desired (or stale) policies or states
  bool original = false;  // send the kernel's own entry (undo), not the plan's
  bool stale = false;     // an entry an earlier load of the file added, now gone from it
};

bool is_policy(ChangeKind kind) {
  return kind == ChangeKind::AddPolicy || kind == ChangeKind::UpdatePolicy ||
         kind == ChangeKind::DeletePolicy;
}

// Failures that leave the kernel as the change wanted it anyway: an entry
// to remove is already gone. An entry to add that exists is not one: the
// dump said it was absent, so another program added it meanwhile, and
// keeping its version while reporting success would hide that.
bool harmless(ChangeKind kind, int error) {
  switch (kind) {
    case ChangeKind::DeletePolicy:
    case ChangeKind::DeleteState:
      return error == ENOENT || error == ESRCH;
    case ChangeKind::AddPolicy:
    case ChangeKind::AddState:
    case ChangeKind::UpdatePolicy:
      return false;
  }
  return false;
}

const char* verb(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::AddPolicy:
    case ChangeKind::AddState: return "add";
    case ChangeKind::UpdatePolicy: return "update";
    case ChangeKind::DeletePolicy:
    case ChangeKind::DeleteState: return "remove";
  }
  return "change";
}

std::string without_newline(std::string text) {
  while (!text.empty() && (text.back() == '\n')) text.pop_back();
  return text;
}

const char* dir_name(PolicyDir dir) {
  return dir == PolicyDir::In ? "in" : dir == PolicyDir::Out ? "out" : "fwd";
}

std::string hint(ChangeKind kind, int error) {
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

// Entries of `kind` an earlier load of the file owned and no other file
// claims, by identity (sorted), with the content they had.
using StaleIndex = std::vector<std::pair<Fingerprint, std::uint64_t>>;

StaleIndex stale_candidates(const SyncScope& scope, OwnedKind kind) {
  StaleIndex out;
  if (scope.previous == nullptr) return out;
  for (const OwnedKernelEntry& e : scope.previous->kernel)
    if (e.kind == kind) out.emplace_back(Fingerprint{e.identity_hi, e.identity_lo}, e.digest);
  std::sort(out.begin(), out.end());
  if (scope.others == nullptr || out.empty()) return out;
  std::vector<Fingerprint> claimed;
  for (const OwnedKernelEntry& e : scope.others->kernel)
    if (e.kind == kind) claimed.push_back(Fingerprint{e.identity_hi, e.identity_lo});
  std::sort(claimed.begin(), claimed.end());
  std::erase_if(out, [&](const auto& entry) {
    return std::binary_search(claimed.begin(), claimed.end(), entry.first);
  });
  return out;
}

// The content an earlier load gave the entry, if it is a stale candidate.
const std::uint64_t* stale_content(const StaleIndex& index, const Fingerprint& id) {
  auto it = std::lower_bound(index.begin(), index.end(), id,
                             [](const auto& entry, const Fingerprint& f) { return entry.first < f; });
  return it != index.end() && it->first == id ? &it->second : nullptr;
}

// stale_candidates(), made on the first question: an unchanged reload of
// 10^5 flows never asks, and sorting the record's entries to answer would
// cost more than the rest of the comparison.
class LazyStaleIndex {
 public:
  LazyStaleIndex(const SyncScope& scope, OwnedKind kind) : scope_(scope), kind_(kind) {}
  const std::uint64_t* content(const Fingerprint& id) {
    if (!index_) index_ = stale_candidates(scope_, kind_);
    return stale_content(*index_, id);
  }

 private:
  const SyncScope& scope_;
  OwnedKind kind_;
  std::optional<StaleIndex> index_;
};

// A policy the kernel holds, as far as comparing needs it: 24 bytes, so
// 10^5 of them cost a few MiB, where whole policies would cost tens.
struct HeldPolicy {
  Fingerprint id;
  std::uint64_t content = 0;
  friend bool operator<(const HeldPolicy& a, const HeldPolicy& b) { return a.id < b.id; }
};

// A selector of two single hosts: the kernel keeps such policies in a
// hash table, where the order they arrive in costs nothing.
bool host_to_host(const Selector& selector) {
  return selector.src.full_length() && selector.dst.full_length();
}

// The plan's `sub`-th policy of flow `flow`, lowered and normalized.
DesiredPolicy desired_of(const KernelPolicy& policy, std::uint32_t flow, std::size_t sub) {
  DesiredPolicy d;
  d.id = policy_identity(policy);
  d.content = policy_content(policy);
  d.flow = flow;
  d.sub = static_cast<std::uint8_t>(sub);
  d.specificity = static_cast<std::uint16_t>(selector_specificity(policy.selector));
  return d;
}

// The order policies are sent in: widest selectors first when adding
// (inserting a covering prefix after its sub-prefixes is what makes the
// kernel's inexact lists slow), narrowest first when removing; the file's
// order among equals.
bool sent_before(const DesiredPolicy& x, const DesiredPolicy& y, bool adding) {
  if (x.specificity != y.specificity)
    return adding ? x.specificity < y.specificity : x.specificity > y.specificity;
  return std::tie(x.flow, x.sub) < std::tie(y.flow, y.sub);
}

}  // namespace

// Everything one load decided, kept after success so that undo_last()
// can take it back when another backend fails later in the same run.
struct LoadTransaction {
  explicit LoadTransaction(const Plan& p) : plan(p), lowering(p) {}
  const Plan& plan;
  PlanLowering lowering;
  // Sorted by identity (apply), or in the order the flows came (streaming).
  std::vector<DesiredPolicy> desired;
  std::vector<KernelState> states;
  std::unordered_map<std::uint32_t, KernelPolicy> policy_originals;
  std::vector<std::optional<KernelState>> state_originals;
  // Entries an earlier load of the same file added that the file no
  // longer has, as the kernel holds them (removed, or restored on undo).
  std::vector<KernelPolicy> stale_policies;
  std::vector<KernelState> stale_states;
  std::vector<Change> changes;

  // Streaming only (begin_streaming): what the kernel held, by identity
  // with its content, sorted; the policies left for the end (wider
  // selectors, updates); flows the kernel cannot express.
  std::vector<HeldPolicy> kernel_index;
  std::vector<Fingerprint> kernel_stale;  // held ones an earlier load added
  std::vector<std::uint32_t> deferred;
  std::vector<std::uint32_t> refused;
  std::uint32_t streamed_flows = 0;
  bool stopped = false;
  const SyncScope* scope = nullptr;

  KernelPolicy policy_of(const Change& c) const {
    if (c.stale) return stale_policies[c.ref];
    if (c.original) {
      auto it = policy_originals.find(c.ref);
      if (it != policy_originals.end()) return it->second;
    }
    return lowering.lower_policy(plan.flows[desired[c.ref].flow], desired[c.ref].sub);
  }
  const KernelState& state_of(const Change& c) const {
    if (c.stale) return stale_states[c.ref];
    if (c.original && state_originals[c.ref]) return *state_originals[c.ref];
    return states[c.ref];
  }
};

namespace {

// The record's line for a policy and for an SA: record() writes them,
// record_unchanged() compares them.
OwnedKernelEntry owned(const DesiredPolicy& d) {
  return OwnedKernelEntry{OwnedKind::Policy, d.id.hi, d.id.lo, d.content};
}
OwnedKernelEntry owned(const KernelState& st) {
  const Fingerprint id = state_identity(st);
  return OwnedKernelEntry{OwnedKind::State, id.hi, id.lo, state_content(st)};
}

// What the file owns after a successful load.
void record(const LoadTransaction& t, OwnedEntries* now) {
  if (now == nullptr) return;
  now->kernel.reserve(now->kernel.size() + t.desired.size() + t.states.size());
  const std::size_t first = now->kernel.size();
  for (const DesiredPolicy& d : t.desired)
    if (d.presence != Presence::Duplicate) now->add(owned(d));
  // By identity, whatever order the load had them in (streaming: the
  // file's), so that the record of the same kernel is the same text and
  // an unchanged reload does not rewrite it.
  auto by_identity = [](const OwnedKernelEntry& a, const OwnedKernelEntry& b) {
    return std::tie(a.identity_hi, a.identity_lo) < std::tie(b.identity_hi, b.identity_lo);
  };
  const auto from = now->kernel.begin() + static_cast<std::ptrdiff_t>(first);
  // apply() has them sorted already; streaming has the file's order.
  if (!std::is_sorted(from, now->kernel.end(), by_identity))
    std::sort(from, now->kernel.end(), by_identity);
  for (const KernelState& st : t.states) now->add(owned(st));
}

// Whether record() of apply()'s transaction (its policies sorted) would
// list exactly the kernel entries `previous` does.
bool record_unchanged(const LoadTransaction& t, const OwnedEntries& previous) {
  auto e = previous.kernel.begin();
  for (const DesiredPolicy& d : t.desired)
    if (d.presence != Presence::Duplicate && (e == previous.kernel.end() || !(*e++ == owned(d))))
      return false;
  for (const KernelState& st : t.states)
    if (e == previous.kernel.end() || !(*e++ == owned(st))) return false;
  return e == previous.kernel.end();
}

}  // namespace

// What prefetch() read.
struct ChannelBackend::Prefetched {
  // Sorted by identity. A deque: it grows by pieces, never holding an old
  // and a new copy of 10^5 entries at once (this runs beside the compile).
  std::deque<HeldPolicy> policies;
  std::vector<KernelState> states;   // whole: few, and compared in full
  std::optional<std::string> error;  // the dump failed
};

ChannelBackend::ChannelBackend(std::unique_ptr<KernelChannel> channel, Diagnostics& diagnostics,
                               compiler::Resolver& resolver)
    : channel_(std::move(channel)), diag_(diagnostics), resolver_(resolver) {}

ChannelBackend::~ChannelBackend() = default;

namespace {

// The changes that take back those of `changes` that took effect, newest
// first. Only this run's own changes are undone: one the kernel refused
// (an entry another program added meanwhile) is left alone.
std::vector<Change> undo_of(const std::vector<Change>& changes, const std::vector<bool>& took_effect) {
  std::vector<Change> undo;
  undo.reserve(changes.size());
  for (std::size_t i = changes.size(); i-- > 0;) {
    if (!took_effect[i]) continue;
    const Change* it = &changes[i];
    const bool stale = it->stale;
    switch (it->kind) {
      case ChangeKind::AddPolicy: undo.push_back({ChangeKind::DeletePolicy, it->ref, false, stale}); break;
      case ChangeKind::UpdatePolicy: undo.push_back({ChangeKind::UpdatePolicy, it->ref, true, stale}); break;
      case ChangeKind::DeletePolicy: undo.push_back({ChangeKind::AddPolicy, it->ref, true, stale}); break;
      case ChangeKind::AddState: undo.push_back({ChangeKind::DeleteState, it->ref, false, stale}); break;
      case ChangeKind::DeleteState: undo.push_back({ChangeKind::AddState, it->ref, true, stale}); break;
    }
  }
  return undo;
}

}  // namespace

namespace {

// How often (in changes) a load asks whether to stop: a few milliseconds
// of kernel work.
constexpr std::uint32_t kStopCheckInterval = 1024;

}  // namespace

// What one send() of a list of changes came to.
struct SentChanges {
  SendOutcome outcome;
  std::size_t count = 0;   // changes [0, count) reached the kernel
  bool stopped = false;    // a stop was asked for before the end
};

namespace {

SentChanges send(KernelChannel& channel, const LoadTransaction& t, const std::vector<Change>& list,
          const std::function<bool()>& stop = {}) {
  SentChanges sent;
  for (std::uint32_t tag = 0; tag < list.size(); ++tag) {
    if (stop && tag % kStopCheckInterval == 0 && tag != 0 && stop()) {
      sent.stopped = true;
      break;
    }
    const Change& c = list[tag];
    if (is_policy(c.kind))
      channel.queue_policy(c.kind, t.policy_of(c), tag);
    else
      channel.queue_state(c.kind, t.state_of(c), tag);
    sent.count = tag + 1;
  }
  sent.outcome = channel.send();
  return sent;
}

// Which changes are in effect now. When the kernel's answers were lost,
// every change sent counts (undoing one that did not take is harmless).
std::vector<bool> in_effect(const std::vector<Change>& changes, const SentChanges& sent) {
  std::vector<bool> effect(changes.size(), false);
  for (std::size_t i = 0; i < sent.count && i < changes.size(); ++i) effect[i] = true;
  if (!sent.outcome.answers_lost)
    for (const ChangeFailure& f : sent.outcome.failures)
      if (f.tag < effect.size()) effect[f.tag] = false;
  return effect;
}

bool undo(KernelChannel& channel, Diagnostics& diag, const LoadTransaction& t,
          const std::vector<bool>& took_effect) {
  std::vector<Change> undo = undo_of(t.changes, took_effect);
  SentChanges undone_sent = send(channel, t, undo);
  const SendOutcome& undone = undone_sent.outcome;
  std::size_t left = 0;
  for (const ChangeFailure& failure : undone.failures)
    if (failure.tag < undo.size() && !harmless(undo[failure.tag].kind, failure.error)) ++left;
  if (left != 0 || undone.answers_lost) {
    diag.note("rolling back failed for " + std::to_string(left) +
              " changes; check the kernel with ipsecctl -s all");
    return false;
  }
  return true;
}

}  // namespace

bool ChannelBackend::undo_last() {
  if (!last_) return true;
  try {
    bool ok = undo(*channel_, diag_, *last_, std::vector<bool>(last_->changes.size(), true));
    if (ok)
      diag_.note("the " + std::to_string(last_->changes.size()) +
                 " kernel changes of this run were undone; the kernel is as it was");
    last_.reset();
    return ok;
  } catch (const KernelError& error) {
    diag_.note(error.what());
    return false;
  }
}

bool ChannelBackend::apply(const Plan& plan, Action action, const SyncScope& scope) {
  const bool adding = action == Action::Add;
  last_.reset();
  auto transaction = std::make_unique<LoadTransaction>(plan);
  LoadTransaction& t = *transaction;
  bool refused = false;
  for (const FlowEntry& f : plan.flows)
    if (auto why = t.lowering.check_flow(f)) {
      diag_.error_at(f.origin, *why);
      refused = true;
    }
  for (const auto& sa : plan.sas) {
    auto why = t.lowering.check_sa(sa);
    if (!why && adding) why = channel_->check_state(t.lowering.lower_sa(sa));
    if (why) {
      diag_.error_at(sa.origin, *why);
      refused = true;
    }
  }
  if (adding)
    for (const auto& bundle : plan.bundles) {
      diag_.error_at(bundle.origin,
                     "SA bundles cannot be loaded into the Linux kernel: it groups SAs through "
                     "the templates of a policy, which ipsec.conf cannot express");
      refused = true;
    }
  if (refused) {
    diag_.note(std::string("the kernel cannot express these rules; nothing was ") +
               (adding ? "loaded" : "removed"));
    return false;
  }

  try {
    // What the plan wants, by identity.
    std::vector<DesiredPolicy>& desired = t.desired;
    desired.reserve(plan.flows.size() * 2);
    std::array<KernelPolicy, 2> lowered;
    for (std::uint32_t i = 0; i < plan.flows.size(); ++i) {
      std::size_t n = t.lowering.lower_flow(plan.flows[i], lowered);
      for (std::size_t j = 0; j < n; ++j) {
        channel_->normalize(lowered[j]);
        desired.push_back(desired_of(lowered[j], i, j));
      }
    }
    std::sort(desired.begin(), desired.end(), [](const DesiredPolicy& a, const DesiredPolicy& b) {
      return std::tie(a.id, a.flow, a.sub) < std::tie(b.id, b.flow, b.sub);
    });
    // A flow written twice is added once, as OpenBSD takes EEXIST as success.
    for (std::size_t k = 1; k < desired.size(); ++k)
      if (desired[k].id == desired[k - 1].id) desired[k].presence = Presence::Duplicate;

    std::vector<KernelState>& states = t.states;
    std::map<Fingerprint, std::uint32_t> state_index;
    for (const auto& sa : plan.sas) {
      KernelState s = t.lowering.lower_sa(sa);
      channel_->normalize(s);
      if (state_index.emplace(state_identity(s), static_cast<std::uint32_t>(states.size())).second)
        states.push_back(std::move(s));
    }

    // What the kernel already has; what an earlier load of the file put
    // there and the file no longer has is stale, unless somebody changed it
    // since (then it is no longer ours to remove).
    LazyStaleIndex stale_policies{scope, OwnedKind::Policy};
    LazyStaleIndex stale_states{scope, OwnedKind::State};
    auto desired_with = [&](const Fingerprint& id) -> DesiredPolicy* {
      auto it = std::lower_bound(desired.begin(), desired.end(), id,
                                 [](const DesiredPolicy& d, const Fingerprint& f) { return d.id < f; });
      return it == desired.end() || it->id != id ? nullptr : &*it;
    };
    // The whole policy is kept where undo needs it: one the load updates,
    // or one an earlier load added that is now stale.
    auto on_policy = [&](KernelPolicy&& k) {
      const Fingerprint id = policy_identity(k);
      DesiredPolicy* d = desired_with(id);
      if (d == nullptr) {
        const std::uint64_t* content = stale_policies.content(id);
        if (content != nullptr && *content == policy_content(k))
          t.stale_policies.push_back(std::move(k));
        return;
      }
      if (policy_content(k) == d->content) {
        d->presence = Presence::Same;
      } else {
        d->presence = Presence::Differs;
        t.policy_originals.emplace(static_cast<std::uint32_t>(d - desired.data()), std::move(k));
      }
    };
    std::unique_ptr<Prefetched> read = std::move(prefetched_);
    if (read && read->error) throw KernelError(*read->error);
    std::vector<KernelState> prefetched_states;
    if (read && adding) {
      // Compared by fingerprint; whole policies are read again only when
      // some are needed.
      // Both sorted by identity: one pass over the two. Whole policies are
      // wanted for one the load updates and for one an earlier load added
      // that the file no longer has (undo and removal need them).
      bool wanted_whole = false;
      auto want = desired.begin();
      for (const HeldPolicy& held : read->policies) {
        while (want != desired.end() && want->id < held.id) ++want;
        if (want != desired.end() && want->id == held.id) {
          if (held.content == want->content) want->presence = Presence::Same;
          else wanted_whole = true;
        } else if (const std::uint64_t* added = stale_policies.content(held.id)) {
          wanted_whole = wanted_whole || *added == held.content;
        }
      }
      if (wanted_whole)
        channel_->dump_policies([&](KernelPolicy&& k) {
          const Fingerprint id = policy_identity(k);
          DesiredPolicy* d = desired_with(id);
          if (d == nullptr || d->presence != Presence::Same) on_policy(std::move(k));
        });
      prefetched_states = std::move(read->states);
    } else {
      channel_->dump_policies(on_policy);
    }
    std::vector<Presence> state_presence(states.size(), Presence::Absent);
    t.state_originals.resize(states.size());
    auto on_state = [&](KernelState&& k) {
      const Fingerprint id = state_identity(k);
      auto it = state_index.find(id);
      if (it == state_index.end()) {
        const std::uint64_t* content = stale_states.content(id);
        if (content != nullptr && *content == state_content(k))
          t.stale_states.push_back(std::move(k));
        return;
      }
      state_presence[it->second] =
          state_content(k) == state_content(states[it->second]) ? Presence::Same
                                                                 : Presence::Differs;
      t.state_originals[it->second] = std::move(k);
    };
    if (read && adding) {
      for (KernelState& k : prefetched_states) on_state(std::move(k));
    } else {
      channel_->dump_states(on_state);
    }

    // The difference, in the order it must be applied.
    std::vector<Change>& changes = t.changes;
    std::vector<std::uint32_t> policy_order;
    for (std::uint32_t k = 0; k < desired.size(); ++k) {
      Presence p = desired[k].presence;
      if (p == Presence::Duplicate) continue;
      if (adding ? (p == Presence::Absent || p == Presence::Differs) : p != Presence::Absent)
        policy_order.push_back(k);
    }
    std::sort(policy_order.begin(), policy_order.end(), [&](std::uint32_t a, std::uint32_t b) {
      return sent_before(desired[a], desired[b], adding);
    });
    // Stale entries go first (narrowest policies first), both when
    // reloading and when removing the file.
    std::vector<std::uint32_t> stale_order(t.stale_policies.size());
    for (std::uint32_t k = 0; k < stale_order.size(); ++k) stale_order[k] = k;
    std::stable_sort(stale_order.begin(), stale_order.end(), [&](std::uint32_t a, std::uint32_t b) {
      return selector_specificity(t.stale_policies[a].selector) >
             selector_specificity(t.stale_policies[b].selector);
    });
    for (std::uint32_t k : stale_order) changes.push_back({ChangeKind::DeletePolicy, k, true, true});
    for (std::uint32_t i = 0; i < t.stale_states.size(); ++i)
      changes.push_back({ChangeKind::DeleteState, i, true, true});
    if (adding) {
      for (std::uint32_t i = 0; i < states.size(); ++i) {
        if (state_presence[i] == Presence::Differs)
          changes.push_back({ChangeKind::DeleteState, i, true});
        if (state_presence[i] != Presence::Same) changes.push_back({ChangeKind::AddState, i});
      }
      for (std::uint32_t k : policy_order)
        changes.push_back({desired[k].presence == Presence::Differs ? ChangeKind::UpdatePolicy
                                                                    : ChangeKind::AddPolicy,
                           k});
    } else {
      for (std::uint32_t k : policy_order) changes.push_back({ChangeKind::DeletePolicy, k});
      for (std::uint32_t i = 0; i < states.size(); ++i)
        if (state_presence[i] != Presence::Absent)
          changes.push_back({ChangeKind::DeleteState, i, true});
    }
    auto record_ownership = [&] {
      if (adding) record(t, scope.now);
    };
    if (changes.empty()) {
      if (adding && scope.kernel_as_before != nullptr && scope.now != nullptr &&
          scope.now->kernel.empty() && scope.previous != nullptr &&
          record_unchanged(t, *scope.previous))
        *scope.kernel_as_before = true;
      else
        record_ownership();
      return true;
    }

    SentChanges sent = send(*channel_, t, changes, [this] { return should_stop(); });
    if (!settle(t, sent, adding)) return false;
    record_ownership();
    last_ = std::move(transaction);
    return true;
  } catch (const KernelError& error) {
    diag_.note(error.what());
    return false;
  }
}

bool ChannelBackend::settle(const LoadTransaction& t, const SentChanges& sent, bool adding) {
  const std::vector<Change>& changes = t.changes;
  const SendOutcome& outcome = sent.outcome;
  bool failed = outcome.answers_lost || sent.stopped;
  for (const ChangeFailure& failure : outcome.failures) {
    if (failure.tag >= changes.size()) continue;
    const Change& c = changes[failure.tag];
    if (harmless(c.kind, failure.error)) continue;
    failed = true;
    std::string what;
    SourceLocation origin;
    if (c.stale) {
      what = is_policy(c.kind) ? "a policy an earlier load of this file added (dir " +
                                     std::string(dir_name(t.policy_of(c).dir)) + ")"
                               : "an SA an earlier load of this file added";
      if (is_policy(c.kind)) {
        if (auto flow = flow_from_policy(t.policy_of(c)))
          what += ": " + without_newline(compiler::format_flow(*flow, resolver_));
      } else {
        what += ": " + without_newline(compiler::format_sa(sa_from_state(t.state_of(c)), false));
      }
    } else if (is_policy(c.kind)) {
      const FlowEntry& flow = t.plan.flows[t.desired[c.ref].flow];
      origin = flow.origin;
      what = without_newline(compiler::format_flow(flow, resolver_)) + " (policy dir " +
             dir_name(t.policy_of(c).dir) + ")";
    } else {
      origin = t.state_of(c).origin;
      what = without_newline(compiler::format_sa(sa_from_state(t.state_of(c)), false));
    }
    std::string message = "kernel refused to " + std::string(verb(c.kind)) + " " + what +
                          ": " + std::strerror(failure.error) + hint(c.kind, failure.error);
    if (!failure.kernel_message.empty()) message += ": " + failure.kernel_message;
    diag_.error_at(origin, message);
  }
  if (!failed) return true;
  if (outcome.answers_lost)
    diag_.note("the kernel's answers overflowed the socket; treating every change as suspect");
  const std::vector<bool> effect = in_effect(changes, sent);
  const auto done = static_cast<std::size_t>(std::count(effect.begin(), effect.end(), true));
  const std::string what = sent.stopped ? std::string(adding ? "loading" : "removing") +
                                              " was interrupted"
                                        : std::string(adding ? "loading" : "removing") +
                                              " failed";
  if (undo(*channel_, diag_, t, effect))
    diag_.note(what + "; the " + std::to_string(done) +
               " changes this run had made were undone and the kernel is as it was");
  return false;
}

// --- reading the kernel while the plan is compiled -------------------------

// Which held policies an earlier load added is apply()'s question: it
// asks it only of those the file no longer has, usually none.
void ChannelBackend::prefetch(const SyncScope&) {
  auto read = std::make_unique<Prefetched>();
  try {
    channel_->dump_policies([&](KernelPolicy&& k) {
      read->policies.push_back({policy_identity(k), policy_content(k)});
    });
    std::sort(read->policies.begin(), read->policies.end());
    channel_->dump_states([&](KernelState&& k) { read->states.push_back(std::move(k)); });
  } catch (const KernelError& error) {
    read->error = error.what();
  }
  prefetched_ = std::move(read);
}

// --- loading while the plan is compiled -----------------------------------

bool ChannelBackend::begin_streaming(const Plan& plan, const SyncScope& scope,
                                     std::size_t expected_flows) {
  last_.reset();
  stream_.reset();
  auto transaction = std::make_unique<LoadTransaction>(plan);
  LoadTransaction& t = *transaction;
  t.scope = &scope;
  // A flow rule without a direction is three policies (out, in and the
  // in's forward twin); what is reserved and never used is never touched.
  t.desired.reserve(3 * expected_flows);
  t.changes.reserve(3 * expected_flows);
  try {
    const auto stale_policy_ids = stale_candidates(scope, OwnedKind::Policy);
    const auto stale_state_ids = stale_candidates(scope, OwnedKind::State);
    // Identities and contents only: the kernel may hold 10^5 policies.
    // Stale candidates are only marked: which of them the file still has
    // is known at the end, and the policies themselves are fetched then.
    channel_->dump_policies([&](KernelPolicy&& k) {
      const Fingerprint id = policy_identity(k);
      const std::uint64_t content = policy_content(k);
      const std::uint64_t* owned = stale_content(stale_policy_ids, id);
      t.kernel_index.push_back({id, content});
      if (owned != nullptr && *owned == content) t.kernel_stale.push_back(id);
    });
    std::sort(t.kernel_index.begin(), t.kernel_index.end());
    // The plan has no SAs (see KernelBackend::begin_streaming): only
    // those an earlier load of the file added can be affected.
    channel_->dump_states([&](KernelState&& k) {
      const std::uint64_t* owned = stale_content(stale_state_ids, state_identity(k));
      if (owned != nullptr && *owned == state_content(k)) t.stale_states.push_back(std::move(k));
    });
  } catch (const KernelError& error) {
    diag_.note(error.what());
    return false;
  }
  stream_ = std::move(transaction);
  return true;
}

void ChannelBackend::stream_flow(std::uint32_t flow_index) {
  if (!stream_ || stream_->stopped) return;
  LoadTransaction& t = *stream_;
  if (++t.streamed_flows % kStopCheckInterval == 0 && should_stop()) {
    t.stopped = true;
    return;
  }
  const FlowEntry& flow = t.plan.flows[flow_index];
  if (t.lowering.check_flow(flow)) {
    t.refused.push_back(flow_index);
    return;
  }
  if (!t.refused.empty()) return;  // the load fails; nothing more goes out
  std::array<KernelPolicy, 2> lowered;
  const std::size_t n = t.lowering.lower_flow(flow, lowered);
  for (std::size_t j = 0; j < n; ++j) {
    channel_->normalize(lowered[j]);
    DesiredPolicy d = desired_of(lowered[j], flow_index, j);
    auto held = std::lower_bound(
        t.kernel_index.begin(), t.kernel_index.end(), d.id,
        [](const auto& entry, const Fingerprint& id) { return entry.id < id; });
    if (held != t.kernel_index.end() && held->id == d.id)
      d.presence = held->content == d.content ? Presence::Same : Presence::Differs;
    const auto k = static_cast<std::uint32_t>(t.desired.size());
    t.desired.push_back(d);
    if (d.presence == Presence::Absent && host_to_host(lowered[j].selector)) {
      const auto tag = static_cast<std::uint32_t>(t.changes.size());
      t.changes.push_back({ChangeKind::AddPolicy, k});
      channel_->queue_policy(ChangeKind::AddPolicy, lowered[j], tag);
    } else if (d.presence != Presence::Same) {
      t.deferred.push_back(k);
    }
  }
}

bool ChannelBackend::abandon_streaming() {
  auto transaction = std::move(stream_);
  if (!transaction) return true;
  try {
    return take_back(*transaction, channel_->send());
  } catch (const KernelError& error) {
    diag_.note(error.what());
    return false;
  }
}

bool ChannelBackend::take_back(const LoadTransaction& t, const SendOutcome& outcome) {
  if (t.changes.empty()) return true;
  SentChanges sent;
  sent.outcome = outcome;
  sent.count = t.changes.size();
  const std::vector<bool> effect = in_effect(t.changes, sent);
  const auto done = static_cast<std::size_t>(std::count(effect.begin(), effect.end(), true));
  if (!undo(*channel_, diag_, t, effect)) return false;
  if (done != 0)
    diag_.note("the " + std::to_string(done) +
               " kernel changes sent while the file was being read were undone; the kernel "
               "is as it was");
  return true;
}

namespace {

// A policy that went out twice because the file has it twice: the kernel
// refused the second with EEXIST, which is no conflict. The second is
// marked a duplicate and its refusal dropped.
void forgive_own_duplicates(LoadTransaction& t, SendOutcome& outcome) {
  std::vector<std::uint32_t> refused_adds;
  for (const ChangeFailure& f : outcome.failures)
    if (f.error == EEXIST && f.tag < t.changes.size() &&
        t.changes[f.tag].kind == ChangeKind::AddPolicy && !t.changes[f.tag].stale)
      refused_adds.push_back(t.changes[f.tag].ref);
  if (refused_adds.empty()) return;
  // Each refused one against the first with its identity.
  std::unordered_map<std::uint32_t, bool> own;  // desired index -> a duplicate
  std::vector<std::pair<Fingerprint, std::uint32_t>> by_id;
  by_id.reserve(t.desired.size());
  for (std::uint32_t k = 0; k < t.desired.size(); ++k) by_id.emplace_back(t.desired[k].id, k);
  std::sort(by_id.begin(), by_id.end());
  for (std::uint32_t k : refused_adds) {
    auto first = std::lower_bound(by_id.begin(), by_id.end(), std::make_pair(t.desired[k].id, 0u));
    own[k] = first != by_id.end() && first->first == t.desired[k].id && first->second < k;
  }
  std::erase_if(outcome.failures, [&](const ChangeFailure& f) {
    if (f.error != EEXIST || f.tag >= t.changes.size()) return false;
    const Change& c = t.changes[f.tag];
    if (c.kind != ChangeKind::AddPolicy || c.stale) return false;
    auto it = own.find(c.ref);
    if (it == own.end() || !it->second) return false;
    t.desired[c.ref].presence = Presence::Duplicate;
    return true;
  });
}

}  // namespace

bool ChannelBackend::finish_streaming() {
  auto transaction = std::move(stream_);
  if (!transaction) return false;
  LoadTransaction& t = *transaction;
  const Plan& plan = t.plan;
  try {
    if (!plan.sas.empty() || !plan.bundles.empty()) {
      // The file gained SAs after the first pass read it: flows may need
      // their modes, so what went out is taken back and the whole plan
      // loads the ordinary way.
      if (!take_back(t, channel_->send())) return false;
      return apply(plan, Action::Add, *t.scope);
    }
    if (!t.refused.empty()) {
      for (std::uint32_t i : t.refused)
        diag_.error_at(plan.flows[i].origin, *t.lowering.check_flow(plan.flows[i]));
      diag_.note("the kernel cannot express these rules; nothing was loaded");
      take_back(t, channel_->send());
      return false;
    }
    if (t.stopped) {
      SentChanges sent;
      sent.outcome = channel_->send();
      sent.count = t.changes.size();
      sent.stopped = true;
      settle(t, sent, true);
      return false;
    }
    // A flow written twice is added once, the first time (see apply()).
    // Waiting policies are told apart here; two that went out at once are
    // told apart by the kernel, which refuses the second (see below).
    std::sort(t.deferred.begin(), t.deferred.end(), [&](std::uint32_t a, std::uint32_t b) {
      return std::tie(t.desired[a].id, a) < std::tie(t.desired[b].id, b);
    });
    for (std::size_t i = 1; i < t.deferred.size(); ++i)
      if (t.desired[t.deferred[i]].id == t.desired[t.deferred[i - 1]].id)
        t.desired[t.deferred[i]].presence = Presence::Duplicate;
    std::erase_if(t.deferred,
                  [&](std::uint32_t k) { return t.desired[k].presence == Presence::Duplicate; });
    // The kernel's own version of each policy this load updates (for
    // undo) and of each an earlier load added that the file no longer
    // has: read again, as only now is it known which they are.
    std::vector<std::pair<Fingerprint, std::uint32_t>> updated;
    for (std::uint32_t k : t.deferred)
      if (t.desired[k].presence == Presence::Differs) updated.emplace_back(t.desired[k].id, k);
    std::vector<Fingerprint> stale = std::move(t.kernel_stale);
    std::sort(stale.begin(), stale.end());
    t.kernel_index = {};
    if (!stale.empty()) {
      std::vector<Fingerprint> wanted;
      wanted.reserve(t.desired.size());
      for (const DesiredPolicy& d : t.desired) wanted.push_back(d.id);
      std::sort(wanted.begin(), wanted.end());
      std::erase_if(stale, [&](const Fingerprint& id) {
        return std::binary_search(wanted.begin(), wanted.end(), id);
      });
    }
    if (!updated.empty() || !stale.empty()) {
      std::sort(updated.begin(), updated.end());
      channel_->dump_policies([&](KernelPolicy&& p) {
        const Fingerprint id = policy_identity(p);
        auto it = std::lower_bound(
            updated.begin(), updated.end(), id,
            [](const auto& entry, const Fingerprint& f) { return entry.first < f; });
        if (it != updated.end() && it->first == id)
          t.policy_originals.emplace(it->second, std::move(p));
        else if (std::binary_search(stale.begin(), stale.end(), id))
          t.stale_policies.push_back(std::move(p));
      });
    }
    // Removed narrowest first.
    std::stable_sort(t.stale_policies.begin(), t.stale_policies.end(),
                     [](const KernelPolicy& a, const KernelPolicy& b) {
                       return selector_specificity(a.selector) > selector_specificity(b.selector);
                     });
    const std::size_t first = t.changes.size();
    for (std::uint32_t k = 0; k < t.stale_policies.size(); ++k)
      t.changes.push_back({ChangeKind::DeletePolicy, k, true, true});
    for (std::uint32_t i = 0; i < t.stale_states.size(); ++i)
      t.changes.push_back({ChangeKind::DeleteState, i, true, true});
    // Wider selectors and updates, widest first as apply() sends them.
    std::sort(t.deferred.begin(), t.deferred.end(), [&](std::uint32_t a, std::uint32_t b) {
      return sent_before(t.desired[a], t.desired[b], true);
    });
    for (std::uint32_t k : t.deferred)
      t.changes.push_back({t.desired[k].presence == Presence::Differs ? ChangeKind::UpdatePolicy
                                                                      : ChangeKind::AddPolicy,
                           k});
    SentChanges sent;
    sent.count = first;
    for (std::size_t tag = first; tag < t.changes.size(); ++tag) {
      if ((tag - first) % kStopCheckInterval == 0 && tag != first && should_stop()) {
        sent.stopped = true;
        break;
      }
      const Change& c = t.changes[tag];
      if (is_policy(c.kind))
        channel_->queue_policy(c.kind, t.policy_of(c), static_cast<std::uint32_t>(tag));
      else
        channel_->queue_state(c.kind, t.state_of(c), static_cast<std::uint32_t>(tag));
      sent.count = tag + 1;
    }
    sent.outcome = channel_->send();
    forgive_own_duplicates(t, sent.outcome);
    if (!settle(t, sent, true)) return false;
    record(t, t.scope->now);
    last_ = std::move(transaction);
    return true;
  } catch (const KernelError& error) {
    diag_.note(error.what());
    return false;
  }
}

bool ChannelBackend::flush() {
  try {
    channel_->flush_all();
    return true;
  } catch (const KernelError& error) {
    diag_.note(error.what());
    return false;
  }
}

std::optional<KernelSnapshot> ChannelBackend::snapshot(bool policies, bool states) {
  try {
    KernelSnapshot snap;
    if (policies) channel_->dump_policies([&](KernelPolicy&& p) { snap.policies.push_back(std::move(p)); });
    if (states) channel_->dump_states([&](KernelState&& s) { snap.states.push_back(std::move(s)); });
    return snap;
  } catch (const KernelError& error) {
    diag_.note(error.what());
    return std::nullopt;
  }
}

bool ChannelBackend::watch(const std::function<bool(const MonitorEvent&)>& each) {
  try {
    channel_->monitor([&](const MonitorEvent& event) {
      if (event.when.time_since_epoch().count() != 0) return each(event);
      MonitorEvent stamped = event;
      stamped.when = std::chrono::system_clock::now();
      return each(stamped);
    });
    return true;
  } catch (const KernelError& error) {
    diag_.note(error.what());
    return false;
  }
}

}  // namespace ipsecctl::backends
