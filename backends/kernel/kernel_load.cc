#include "backends/kernel/kernel_load.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <tuple>


namespace ipsecctl::backends {

using compiler::FlowEntry;

namespace {

// A selector of two single hosts: the kernel keeps such policies in a
// hash table, where the order they arrive in costs nothing.
bool host_to_host(const Selector& selector) {
  return selector.src.full_length() && selector.dst.full_length();
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

// Whether an earlier load gave the entry exactly this content.
bool stale(const StaleIndex& index, const Fingerprint& id, std::uint64_t content) {
  auto it = std::lower_bound(index.begin(), index.end(), id,
                             [](const auto& entry, const Fingerprint& f) { return entry.first < f; });
  return it != index.end() && it->first == id && it->second == content;
}

}  // namespace

ChannelLoad::ChannelLoad(KernelChannel& channel, Diagnostics& diagnostics,
                         compiler::Resolver& resolver, const compiler::Plan& plan, Action action,
                         const SyncScope& scope, LoadSettings settings)
    : channel_(channel),
      diag_(diagnostics),
      resolver_(resolver),
      plan_(plan),
      adding_(action == Action::Add),
      scope_(scope),
      settings_(std::move(settings)) {
  report_.backend = channel.name();
  // A flow rule without a direction is three policies (out, in and the
  // in's forward twin); what is reserved and never used is never touched.
  desired_.reserve(3 * settings_.expected_flows);
  changes_.reserve(3 * settings_.expected_flows);
}

// --- reading the kernel ------------------------------------------------------

void ChannelLoad::learn_kernel() {
  if (learned_) return;
  try {
    // Identities and contents only: the kernel may hold 10^5 policies.
    channel_.dump_policies([&](KernelPolicy&& k) {
      held_.push_back({policy_identity(k), policy_content(k)});
    });
    std::sort(held_.begin(), held_.end());
    channel_.dump_states([&](KernelState&& k) { held_states_.push_back(std::move(k)); });
  } catch (const KernelError& error) {
    learn_error_ = error.what();
  }
  learned_ = true;
}

void ChannelLoad::compare(Desired& d) const {
  auto held = std::lower_bound(held_.begin(), held_.end(), Held{d.id, 0});
  if (held == held_.end() || held->id != d.id) d.presence = Presence::Absent;
  else d.presence = held->content == d.content ? Presence::Same : Presence::Differs;
}

// --- being fed flows ---------------------------------------------------------

void ChannelLoad::send_early() {
  if (!adding_ || settings_.dry_run || !learned_ || learn_error_) return;
  early_ = true;
  // The flows that came before the kernel was known go now.
  for (std::uint32_t k = 0; k < desired_.size(); ++k) {
    compare(desired_[k]);
    maybe_send_early(k, lowering().lower_policy(plan_.flows[desired_[k].flow], desired_[k].sub));
  }
}

void ChannelLoad::add_flow(std::uint32_t index) {
  if (index != next_flow_ || index >= plan_.flows.size()) return;
  ++next_flow_;
  const FlowEntry& flow = plan_.flows[index];
  if (lowering().check_flow(flow)) {
    refused_.push_back(index);  // reported by apply(), with the others
    return;
  }
  std::array<KernelPolicy, 2> lowered;
  const std::size_t n = lowering().lower_flow(flow, lowered);
  for (std::size_t j = 0; j < n; ++j) {
    KernelPolicy normalized = lowered[j];
    channel_.normalize(normalized);
    Desired d;
    d.id = policy_identity(normalized);
    d.content = policy_content(normalized);
    d.flow = index;
    d.sub = static_cast<std::uint8_t>(j);
    d.fwd = j == 1 && flow.direction == compiler::Direction::In;
    d.specificity = static_cast<std::uint16_t>(selector_specificity(normalized.selector));
    desired_.push_back(d);
    if (!early_) continue;  // compared in apply(), all in one walk
    compare(desired_.back());
    maybe_send_early(static_cast<std::uint32_t>(desired_.size() - 1), lowered[j]);
  }
  if (early_ && next_flow_ % kStopCheckInterval == 0 && settings_.stop && settings_.stop()) {
    stopped_ = true;
    early_ = false;
  }
}

void ChannelLoad::maybe_send_early(std::uint32_t k, const KernelPolicy& policy) {
  Desired& d = desired_[k];
  if (!early_ || !refused_.empty() || d.presence != Presence::Absent ||
      !host_to_host(policy.selector))
    return;
  try {
    const auto tag = static_cast<std::uint32_t>(changes_.size());
    changes_.push_back({ChangeKind::AddPolicy, k});
    sent_early_ = changes_.size();
    d.presence = Presence::SentEarly;
    channel_.queue_policy(ChangeKind::AddPolicy, policy, tag);
  } catch (const KernelError& error) {
    learn_error_ = error.what();  // apply() reports it and takes back the rest
    early_ = false;
  }
}

// --- finishing ---------------------------------------------------------------

bool ChannelLoad::apply() {
  try {
    if (!learned_) learn_kernel();
    if (learn_error_) throw KernelError(*learn_error_);
    if (sent_early_ != 0 && (!plan_.sas.empty() || !plan_.bundles.empty())) {
      // The file gained SAs after its first pass: flows may need their
      // modes, so what went out early is taken back and the whole plan is
      // compared again.
      if (!take_back_early()) return false;
      forget_flows();
    }
    // At most two policies a flow; what is reserved and never used is
    // never touched, while growing would copy and touch it all.
    desired_.reserve(desired_.size() + 2 * (plan_.flows.size() - next_flow_));
    for (auto i = next_flow_; i < plan_.flows.size(); ++i) add_flow(i);
    if (!refuse_inexpressible()) return false;
    if (stopped_) {
      SentChanges sent;
      sent.outcome = channel_.send();
      sent.count = changes_.size();
      sent.stopped = true;
      settle(sent);
      return false;
    }
    // While what went out early is still being inserted, the comparing
    // and the bookkeeping go on beside it.
    sort_by_identity();
    compare_states();
    find_stale();
    read_whole_policies();
    plan_changes();
    if (settings_.dry_run) {
      build_report();
      return true;
    }
    // The record and the report count only once the kernel has confirmed
    // every change; they are made now, so that the kernel's last inserts
    // are all that is left to wait for.
    owned_before_ = scope_.now != nullptr ? scope_.now->kernel.size() : 0;
    record_ownership();
    build_report();
    queued_ = queue_changes(channel_, *this, changes_, sent_early_, settings_.stop);
    return true;
  } catch (const KernelError& error) {
    return failed(error);
  }
}

bool ChannelLoad::confirm() {
  if (settings_.dry_run) return true;
  try {
    if (!changes_.empty()) {
      SentChanges sent = std::move(queued_);
      sent.outcome = channel_.send();
      sent.outcome.answers_lost = sent.outcome.answers_lost || early_outcome_.answers_lost;
      sent.outcome.failures.insert(sent.outcome.failures.end(), early_outcome_.failures.begin(),
                                   early_outcome_.failures.end());
      if (!settle(sent)) {
        if (scope_.now != nullptr) scope_.now->kernel.resize(owned_before_);
        report_ = BackendChanges{};
        report_.backend = channel_.name();
        return false;
      }
    }
    finished_ = true;
    return true;
  } catch (const KernelError& error) {
    return failed(error);
  }
}

bool ChannelLoad::failed(const KernelError& error) {
  diag_.failure(error.what());
  if (!finished_ && !changes_.empty()) {
    try {
      take_back_early();
    } catch (const KernelError&) {
    }
  }
  return false;
}

bool ChannelLoad::refuse_inexpressible() {
  bool refused = false;
  // One rule gives several flows (out and in) and SAs (spi A:B): its
  // reason is said once.
  std::set<std::tuple<std::uint32_t, std::uint32_t, std::string>> said;
  auto refuse = [&](SourceLocation origin, const std::string& why) {
    if (said.emplace(origin.file, origin.line, why).second) diag_.error_at(origin, why);
    refused = true;
  };
  for (std::uint32_t i : refused_)
    refuse(plan_.flows[i].origin, *lowering().check_flow(plan_.flows[i]));
  for (const auto& sa : plan_.sas) {
    auto why = lowering().check_sa(sa);
    if (!why && adding_) why = channel_.check_state(lowering().lower_sa(sa));
    if (why) refuse(sa.origin, *why);
  }
  if (adding_)
    for (const auto& bundle : plan_.bundles) {
      diag_.error_at(bundle.origin,
                     "SA bundles cannot be loaded into the Linux kernel: it groups SAs through "
                     "the templates of a policy, which ipsec.conf cannot express");
      refused = true;
    }
  if (!refused) return true;
  diag_.failure(std::string("the kernel cannot express these rules; nothing was ") +
                (adding_ ? "loaded" : "removed"));
  take_back_early();
  return false;
}

// The plan's policies sorted by identity: one walk beside the kernel's
// sorted list compares those not compared yet (a reload compares them
// all here), and a flow written twice is added once, the first time, as
// OpenBSD takes EEXIST as success. The same order is the record's.
void ChannelLoad::sort_by_identity() {
  // Where each flow's first policy was, so that the changes that went out
  // early can follow their policies to their new places.
  std::vector<std::uint32_t> first_of_flow;
  if (!changes_.empty()) {
    first_of_flow.resize(plan_.flows.size());
    for (auto k = static_cast<std::uint32_t>(desired_.size()); k-- > 0;) first_of_flow[desired_[k].flow] = k;
  }
  sort_desired(desired_);
  if (!changes_.empty()) {
    std::vector<std::uint32_t> now_at(desired_.size());
    for (std::uint32_t k = 0; k < desired_.size(); ++k)
      now_at[first_of_flow[desired_[k].flow] + desired_[k].sub] = k;
    for (Change& c : changes_) c.ref = now_at[c.ref];
  }
  auto held = held_.begin();
  for (Desired& d : desired_) {
    if (d.presence != Presence::Unknown) continue;
    while (held != held_.end() && held->id < d.id) ++held;
    if (held == held_.end() || held->id != d.id) d.presence = Presence::Absent;
    else d.presence = held->content == d.content ? Presence::Same : Presence::Differs;
  }
  for (std::size_t k = 1; k < desired_.size(); ++k)
    if (desired_[k].id == desired_[k - 1].id) desired_[k].presence = Presence::Duplicate;
}

void ChannelLoad::sort_desired(std::vector<Desired>& desired) {
  auto before = [](const Desired& a, const Desired& b) {
    return std::tie(a.id, a.flow, a.sub) < std::tie(b.id, b.flow, b.sub);
  };
  constexpr std::size_t kFewEnough = 1 << 14;
  if (desired.size() < kFewEnough) {
    std::sort(desired.begin(), desired.end(), before);
    return;
  }
  // Shared out by the top 16 bits of the identity into a second array,
  // each share sorted on its own: for 3 * 10^5 policies, a few each.
  constexpr unsigned kShift = 48;
  std::vector<std::uint32_t> start((1u << 16) + 1, 0);
  for (const Desired& d : desired) ++start[(d.id.hi >> kShift) + 1];
  for (std::size_t b = 1; b < start.size(); ++b) start[b] += start[b - 1];
  std::vector<Desired> shared(desired.size());
  std::vector<std::uint32_t> next(start.begin(), start.end() - 1);
  for (const Desired& d : desired) shared[next[d.id.hi >> kShift]++] = d;
  for (std::size_t b = 0; b + 1 < start.size(); ++b)
    if (start[b + 1] - start[b] > 1)
      std::sort(shared.begin() + start[b], shared.begin() + start[b + 1], before);
  desired.swap(shared);
}

void ChannelLoad::compare_states() {
  std::map<Fingerprint, std::uint32_t> index;
  for (const auto& sa : plan_.sas) {
    KernelState s = lowering().lower_sa(sa);
    channel_.normalize(s);
    if (index.emplace(state_identity(s), static_cast<std::uint32_t>(states_.size())).second)
      states_.push_back(std::move(s));
  }
  state_presence_.assign(states_.size(), Presence::Absent);
  state_originals_.resize(states_.size());
  std::optional<StaleIndex> stale_index;
  for (KernelState& k : held_states_) {
    const Fingerprint id = state_identity(k);
    auto it = index.find(id);
    if (it == index.end()) {
      if (!stale_index) stale_index = stale_candidates(scope_, OwnedKind::State);
      if (stale(*stale_index, id, state_content(k))) stale_states_.push_back(std::move(k));
      continue;
    }
    state_presence_[it->second] =
        state_content(k) == state_content(states_[it->second]) ? Presence::Same : Presence::Differs;
    state_originals_[it->second] = std::move(k);
  }
  held_states_.clear();
}

// What an earlier load of the file put in the kernel and the file no
// longer has; unless somebody changed it since (then it is no longer ours
// to remove). An unchanged reload never asks, and never sorts the record.
void ChannelLoad::find_stale() {
  std::optional<StaleIndex> index;
  auto want = desired_.begin();
  for (const Held& h : held_) {
    while (want != desired_.end() && want->id < h.id) ++want;
    if (want != desired_.end() && want->id == h.id) continue;
    if (!index) index = stale_candidates(scope_, OwnedKind::Policy);
    if (stale(*index, h.id, h.content)) stale_ids_.push_back(h);
  }
  held_ = {};
}

// The kernel's own version of each policy this load updates (undo puts
// it back) and of each stale one: read again, as only now is it known
// which they are, and only when there are any.
void ChannelLoad::read_whole_policies() {
  std::vector<std::pair<Fingerprint, std::uint32_t>> differing;
  for (std::uint32_t k = 0; k < desired_.size(); ++k)
    if (desired_[k].presence == Presence::Differs) differing.emplace_back(desired_[k].id, k);
  if (differing.empty() && stale_ids_.empty()) return;
  // What went out early is confirmed before the kernel is read again: its
  // answers must not meet a dump's (and only one thread writes the socket).
  if (sent_early_ != 0 && !early_confirmed_) {
    early_outcome_ = channel_.send();
    early_confirmed_ = true;
  }
  // A few updates (an edited line of a large file) are read one by one;
  // stale ones are known by fingerprint only, and need the dump.
  constexpr std::size_t kFewEnough = 256;
  if (stale_ids_.empty() && differing.size() <= kFewEnough && channel_.can_get_policy()) {
    for (const auto& [id, k] : differing)
      if (auto p = channel_.get_policy(policy_of(Change{ChangeKind::UpdatePolicy, k})))
        if (policy_identity(*p) == id) policy_originals_.emplace(k, std::move(*p));
    return;
  }
  channel_.dump_policies([&](KernelPolicy&& p) {
    const Fingerprint id = policy_identity(p);
    auto it = std::lower_bound(differing.begin(), differing.end(), std::make_pair(id, 0u));
    if (it != differing.end() && it->first == id) {
      policy_originals_.emplace(it->second, std::move(p));
      return;
    }
    auto s = std::lower_bound(stale_ids_.begin(), stale_ids_.end(), Held{id, 0});
    if (s != stale_ids_.end() && s->id == id && s->content == policy_content(p))
      stale_policies_.push_back(std::move(p));
  });
}

// The difference, in the order it must be applied (see the header).
void ChannelLoad::plan_changes() {
  std::stable_sort(stale_policies_.begin(), stale_policies_.end(),
                   [](const KernelPolicy& a, const KernelPolicy& b) {
                     return selector_specificity(a.selector) > selector_specificity(b.selector);
                   });
  for (std::uint32_t k = 0; k < stale_policies_.size(); ++k)
    changes_.push_back({ChangeKind::DeletePolicy, k, true, true});
  for (std::uint32_t i = 0; i < stale_states_.size(); ++i)
    changes_.push_back({ChangeKind::DeleteState, i, true, true});
  std::vector<std::uint32_t> order;
  for (std::uint32_t k = 0; k < desired_.size(); ++k) {
    const Presence p = desired_[k].presence;
    if (adding_ ? (p == Presence::Absent || p == Presence::Differs)
                : (p == Presence::Same || p == Presence::Differs))
      order.push_back(k);
  }
  // Widest selectors first when adding, narrowest first when removing;
  // the file's order among equals.
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    const Desired& x = desired_[a];
    const Desired& y = desired_[b];
    if (x.specificity != y.specificity)
      return adding_ ? x.specificity < y.specificity : x.specificity > y.specificity;
    return std::tie(x.flow, x.sub) < std::tie(y.flow, y.sub);
  });
  changes_.reserve(changes_.size() + 2 * states_.size() + order.size());
  if (adding_) {
    for (std::uint32_t i = 0; i < states_.size(); ++i) {
      if (state_presence_[i] == Presence::Differs)
        changes_.push_back({ChangeKind::DeleteState, i, true});
      if (state_presence_[i] != Presence::Same) changes_.push_back({ChangeKind::AddState, i});
    }
    for (std::uint32_t k : order)
      changes_.push_back({desired_[k].presence == Presence::Differs ? ChangeKind::UpdatePolicy
                                                                    : ChangeKind::AddPolicy,
                          k});
  } else {
    for (std::uint32_t k : order) changes_.push_back({ChangeKind::DeletePolicy, k});
    for (std::uint32_t i = 0; i < states_.size(); ++i)
      if (state_presence_[i] != Presence::Absent)
        changes_.push_back({ChangeKind::DeleteState, i, true});
  }
}

const PlanLowering& ChannelLoad::lowering() const {
  if (!lowering_) lowering_.emplace(plan_);
  return *lowering_;
}

void ChannelLoad::forget_flows() {
  lowering_.reset();
  desired_.clear();
  next_flow_ = 0;
  refused_.clear();
  changes_.clear();
  sent_early_ = 0;
  early_ = false;
}

KernelPolicy ChannelLoad::policy_of(const Change& c) const {
  if (c.stale) return stale_policies_[c.ref];
  if (c.original)
    if (auto it = policy_originals_.find(c.ref); it != policy_originals_.end()) return it->second;
  const Desired& d = desired_[c.ref];
  // As the kernel will hold it (and as it was compared): what -v and
  // --diff report is then what -s shows afterwards.
  KernelPolicy p = lowering().lower_policy(plan_.flows[d.flow], d.sub);
  channel_.normalize(p);
  return p;
}

const KernelState& ChannelLoad::state_of(const Change& c) const {
  if (c.stale) return stale_states_[c.ref];
  if (c.original && state_originals_[c.ref]) return *state_originals_[c.ref];
  return states_[c.ref];
}

}  // namespace ipsecctl::backends
