#include "backends/kernel/channel_backend.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <tuple>
#include <unordered_map>

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

}  // namespace

// Everything one load decided, kept after success so that undo_last()
// can take it back when another backend fails later in the same run.
struct LoadTransaction {
  explicit LoadTransaction(const Plan& p) : plan(p), lowering(p) {}
  const Plan& plan;
  PlanLowering lowering;
  std::vector<DesiredPolicy> desired;  // sorted by identity
  std::vector<KernelState> states;
  std::unordered_map<std::uint32_t, KernelPolicy> policy_originals;
  std::vector<std::optional<KernelState>> state_originals;
  // Entries an earlier load of the same file added that the file no
  // longer has, as the kernel holds them (removed, or restored on undo).
  std::vector<KernelPolicy> stale_policies;
  std::vector<KernelState> stale_states;
  std::vector<Change> changes;

  KernelPolicy policy_of(const Change& c) const {
    if (c.stale) return stale_policies[c.ref];
    if (c.original) {
      auto it = policy_originals.find(c.ref);
      if (it != policy_originals.end()) return it->second;
    }
    std::array<KernelPolicy, 2> out;
    lowering.lower_flow(plan.flows[desired[c.ref].flow], out);
    return out[desired[c.ref].sub];
  }
  const KernelState& state_of(const Change& c) const {
    if (c.stale) return stale_states[c.ref];
    if (c.original && state_originals[c.ref]) return *state_originals[c.ref];
    return states[c.ref];
  }
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

struct Sent {
  SendOutcome outcome;
  std::size_t count = 0;   // changes [0, count) reached the kernel
  bool stopped = false;    // a stop was asked for before the end
};

Sent send(KernelChannel& channel, const LoadTransaction& t, const std::vector<Change>& list,
          const std::function<bool()>& stop = {}) {
  Sent sent;
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
std::vector<bool> in_effect(const std::vector<Change>& changes, const Sent& sent) {
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
  Sent undone_sent = send(channel, t, undo);
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
        DesiredPolicy d;
        d.id = policy_identity(lowered[j]);
        d.content = policy_content(lowered[j]);
        d.flow = i;
        d.sub = static_cast<std::uint8_t>(j);
        d.specificity = static_cast<std::uint16_t>(selector_specificity(lowered[j].selector));
        desired.push_back(d);
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
    const auto stale_policy_ids = stale_candidates(scope, OwnedKind::Policy);
    const auto stale_state_ids = stale_candidates(scope, OwnedKind::State);
    channel_->dump_policies([&](KernelPolicy&& k) {
      Fingerprint id = policy_identity(k);
      auto it = std::lower_bound(desired.begin(), desired.end(), id,
                                 [](const DesiredPolicy& d, const Fingerprint& f) { return d.id < f; });
      if (it == desired.end() || it->id != id) {
        const std::uint64_t* content = stale_content(stale_policy_ids, id);
        if (content != nullptr && *content == policy_content(k))
          t.stale_policies.push_back(std::move(k));
        return;
      }
      if (policy_content(k) == it->content) {
        it->presence = Presence::Same;
      } else {
        it->presence = Presence::Differs;
        t.policy_originals.emplace(static_cast<std::uint32_t>(it - desired.begin()), std::move(k));
      }
    });
    std::vector<Presence> state_presence(states.size(), Presence::Absent);
    t.state_originals.resize(states.size());
    channel_->dump_states([&](KernelState&& k) {
      const Fingerprint id = state_identity(k);
      auto it = state_index.find(id);
      if (it == state_index.end()) {
        const std::uint64_t* content = stale_content(stale_state_ids, id);
        if (content != nullptr && *content == state_content(k))
          t.stale_states.push_back(std::move(k));
        return;
      }
      state_presence[it->second] =
          state_content(k) == state_content(states[it->second]) ? Presence::Same
                                                                 : Presence::Differs;
      t.state_originals[it->second] = std::move(k);
    });

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
      const DesiredPolicy& x = desired[a];
      const DesiredPolicy& y = desired[b];
      // Widest first when adding, narrowest first when removing.
      if (x.specificity != y.specificity)
        return adding ? x.specificity < y.specificity : x.specificity > y.specificity;
      return std::tie(x.flow, x.sub) < std::tie(y.flow, y.sub);
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
      if (scope.now == nullptr || !adding) return;
      scope.now->kernel.reserve(scope.now->kernel.size() + desired.size() + states.size());
      for (const DesiredPolicy& d : desired)
        if (d.presence != Presence::Duplicate)
          scope.now->add(OwnedKernelEntry{OwnedKind::Policy, d.id.hi, d.id.lo, d.content});
      for (const KernelState& st : states) {
        const Fingerprint id = state_identity(st);
        scope.now->add(OwnedKernelEntry{OwnedKind::State, id.hi, id.lo, state_content(st)});
      }
    };
    if (changes.empty()) {
      record_ownership();
      return true;
    }

    Sent sent = send(*channel_, t, changes, [this] { return should_stop(); });
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
        const FlowEntry& flow = plan.flows[desired[c.ref].flow];
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
    if (!failed) {
      record_ownership();
      last_ = std::move(transaction);
      return true;
    }
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
