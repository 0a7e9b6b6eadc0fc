// How a kernel load ends: the kernel's answers read and reported by rule,
// undo when anything failed, the record of what the file owns, and the
// report of what changed.
#include <algorithm>
#include <cstring>
#include <set>
#include <tuple>

#include "backends/kernel/kernel_load.h"
#include "backends/kernel/kernel_show.h"
#include "compiler/rule_text.h"

namespace ipsecctl::backends {


namespace {

std::string without_newline(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

const char* dir_name(PolicyDir dir) {
  return dir == PolicyDir::In ? "in" : dir == PolicyDir::Out ? "out" : "fwd";
}

OwnedKernelEntry owned_state(const KernelState& st) {
  const Fingerprint id = state_identity(st);
  return OwnedKernelEntry{OwnedKind::State, id.hi, id.lo, state_content(st)};
}

}  // namespace

std::string ChannelLoad::describe(const Change& c, SourceLocation& origin) const {
  if (c.stale) {
    std::string what = is_policy(c.kind) ? "a policy an earlier load of this file added (dir " +
                                               std::string(dir_name(policy_of(c).dir)) + ")"
                                         : "an SA an earlier load of this file added";
    if (is_policy(c.kind)) {
      if (auto flow = flow_from_policy(policy_of(c)))
        what += ": " + without_newline(compiler::format_flow(*flow, resolver_));
    } else {
      what += ": " + without_newline(compiler::format_sa(sa_from_state(state_of(c)), false));
    }
    return what;
  }
  if (is_policy(c.kind)) {
    const compiler::FlowEntry& flow = plan_.flows[desired_[c.ref].flow];
    origin = flow.origin;
    return without_newline(compiler::format_flow(flow, resolver_)) + " (policy dir " +
           dir_name(policy_of(c).dir) + ")";
  }
  origin = state_of(c).origin;
  return without_newline(compiler::format_sa(sa_from_state(state_of(c)), false));
}

// Reports what the kernel refused; when anything failed (or a stop came),
// undoes what took effect. True when everything took.
bool ChannelLoad::settle(const SentChanges& sent) {
  const SendOutcome& outcome = sent.outcome;
  bool failed = outcome.answers_lost || sent.stopped;
  for (const ChangeFailure& failure : outcome.failures) {
    if (failure.tag >= changes_.size()) continue;
    const Change& c = changes_[failure.tag];
    if (harmless(c.kind, failure.error)) continue;
    // The later copy of a flow written twice, sent early: the kernel
    // refusing it is what "added once" means.
    if (failure.error == EEXIST && c.kind == ChangeKind::AddPolicy && !c.stale &&
        desired_[c.ref].presence == Presence::Duplicate)
      continue;
    failed = true;
    SourceLocation origin;
    const std::string what = describe(c, origin);
    std::string message = "kernel refused to " + std::string(change_verb(c.kind)) + " " + what +
                          ": " + std::strerror(failure.error) +
                          refusal_hint(c.kind, failure.error);
    if (!failure.kernel_message.empty()) message += ": " + failure.kernel_message;
    diag_.error_at(origin, message);
  }
  effect_ = in_effect(changes_, sent);
  if (!failed) return true;
  if (outcome.answers_lost)
    diag_.note("the kernel's answers overflowed the socket; treating every change as suspect");
  std::size_t done = 0;
  if (take_back(effect_, done))
    diag_.note(std::string(adding_ ? "loading" : "removing") +
               (sent.stopped ? " was interrupted" : " failed") + "; the " + std::to_string(done) +
               " changes this run had made were undone and the kernel is as it was");
  return false;
}

bool ChannelLoad::take_back(const std::vector<bool>& effect, std::size_t& done) {
  done = static_cast<std::size_t>(std::count(effect.begin(), effect.end(), true));
  const std::vector<Change> undo = undo_of(changes_, effect);
  const SentChanges undone = send_changes(channel_, *this, undo, 0, {});
  std::size_t left = 0;
  for (const ChangeFailure& failure : undone.outcome.failures)
    if (failure.tag < undo.size() && !harmless(undo[failure.tag].kind, failure.error)) ++left;
  if (left == 0 && !undone.outcome.answers_lost) return true;
  diag_.failure("rolling back failed for " + std::to_string(left) +
                " changes; check the kernel with ipsecctl -s all");
  return false;
}

bool ChannelLoad::take_back_early() {
  if (changes_.empty() || finished_) return true;
  SentChanges sent;
  sent.outcome = channel_.send();
  if (early_confirmed_) {
    sent.outcome.answers_lost = sent.outcome.answers_lost || early_outcome_.answers_lost;
    sent.outcome.failures.insert(sent.outcome.failures.end(), early_outcome_.failures.begin(),
                                 early_outcome_.failures.end());
  }
  sent.count = changes_.size();
  std::size_t done = 0;
  if (!take_back(in_effect(changes_, sent), done)) return false;
  changes_.clear();
  sent_early_ = 0;
  if (done != 0)
    diag_.note("the " + std::to_string(done) +
               " kernel changes sent while the file was being read were undone; the kernel "
               "is as it was");
  return true;
}

bool ChannelLoad::undo() {
  try {
    if (!finished_) return take_back_early();
    std::size_t done = 0;
    if (!take_back(effect_, done)) return false;
    finished_ = false;
    changes_.clear();
    diag_.note("the " + std::to_string(done) +
               " kernel changes of this run were undone; the kernel is as it was");
    return true;
  } catch (const KernelError& error) {
    diag_.failure(error.what());
    return false;
  }
}

// Whether the record of this load would list exactly the kernel entries
// `previous` does (an unchanged reload).
bool ChannelLoad::record_unchanged() const {
  const auto& previous = scope_.previous->kernel;
  auto e = previous.begin();
  for (const Desired& d : desired_) {
    if (d.presence == Presence::Duplicate) continue;
    const OwnedKernelEntry mine{OwnedKind::Policy, d.id.hi, d.id.lo, d.content};
    if (e == previous.end() || !(*e++ == mine)) return false;
  }
  for (const KernelState& st : states_)
    if (e == previous.end() || !(*e++ == owned_state(st))) return false;
  return e == previous.end();
}

// What the file owns after a successful load: its policies by identity
// (whatever order they went out in, so that the same kernel gives the same
// record text), then its SAs.
void ChannelLoad::record_ownership() {
  if (!adding_) return;
  if (changes_.empty() && scope_.kernel_as_before != nullptr && scope_.now != nullptr &&
      scope_.now->kernel.empty() && scope_.previous != nullptr && record_unchanged()) {
    *scope_.kernel_as_before = true;  // 10^5 entries are not copied to be compared
    return;
  }
  if (scope_.now == nullptr) return;
  OwnedEntries& now = *scope_.now;
  now.kernel.reserve(now.kernel.size() + desired_.size() + states_.size());
  for (const Desired& d : desired_)
    if (d.presence != Presence::Duplicate)
      now.add(OwnedKernelEntry{OwnedKind::Policy, d.id.hi, d.id.lo, d.content});
  for (const KernelState& st : states_) now.add(owned_state(st));
}

// The verb a desired policy's presence gives it in this load.
std::optional<ChangeVerb> ChannelLoad::verb_of(Presence p) const {
  if (!adding_)
    return p == Presence::Same || p == Presence::Differs ? std::optional(ChangeVerb::Remove)
                                                         : std::nullopt;
  if (p == Presence::Absent || p == Presence::SentEarly) return ChangeVerb::Add;
  if (p == Presence::Differs) return ChangeVerb::Change;
  return std::nullopt;
}

// As -s shows it: `fwd` policies are the Linux half of an `in` flow, so a
// `fwd` policy is said by its `in` policy when that changes too; one that
// comes or goes while its flow stays (an `in` flow moving between tunnel
// and transport mode gains or loses it) is a change of that flow.
std::optional<ChangeVerb> ChannelLoad::shown_verb(const Desired& d,
                                                  const std::vector<bool>& first_changes) const {
  std::optional<ChangeVerb> verb = verb_of(d.presence);
  if (!verb || !d.fwd) return verb;
  if (first_changes[d.flow]) return std::nullopt;
  return adding_ ? ChangeVerb::Change : *verb;
}

// What changed, as -s shows it (see shown_verb). The plan's own policies
// are counted in one walk of desired_ (the change each gets follows from
// its presence); the list, when asked for, and the stale ones follow the
// changes in the order they went out; then the SAs.
void ChannelLoad::build_report() {
  // Flows whose first policy (`in` for an `in` flow) changes.
  std::vector<bool> first_changes(plan_.flows.size(), false);
  for (const Desired& d : desired_)
    if (d.sub == 0 && verb_of(d.presence)) first_changes[d.flow] = true;
  ChangeCounts& flows = report_.counts[kFlows];
  for (const Desired& d : desired_) {
    if (auto verb = shown_verb(d, first_changes)) flows.count(*verb);
    else if (!d.fwd && d.presence == (adding_ ? Presence::Same : Presence::Absent))
      ++flows.unchanged;
  }
  report_policy_changes(first_changes);
  report_state_changes();
}

// The stale policies (counted here), and each policy change when a list
// is asked for.
void ChannelLoad::report_policy_changes(const std::vector<bool>& first_changes) {
  ChangeCounts& flows = report_.counts[kFlows];
  std::set<Fingerprint> stale_shown;  // stale ones, by their `in` form: few
  for (const Change& c : changes_) {
    if (!is_policy(c.kind) || (!c.stale && !settings_.list_changes)) continue;
    std::optional<ChangeVerb> verb = ChangeVerb::Remove;
    bool fwd = false;
    if (c.stale) {
      KernelPolicy in_form = stale_policies_[c.ref];
      fwd = in_form.dir == PolicyDir::Fwd;
      if (fwd) {
        in_form.dir = PolicyDir::In;
        // A stale `fwd` whose `in` flow stays in the plan: said by that
        // flow, or a change of it.
        const Fingerprint id = policy_identity(in_form);
        auto it = std::lower_bound(desired_.begin(), desired_.end(), id,
                                   [](const Desired& d, const Fingerprint& f) { return d.id < f; });
        if (it != desired_.end() && it->id == id) {
          if (verb_of(it->presence)) continue;
          if (adding_) verb = ChangeVerb::Change;
        }
      }
      if (!stale_shown.insert(policy_identity(in_form)).second) continue;
      flows.count(*verb);
    } else {
      const Desired& d = desired_[c.ref];
      verb = shown_verb(d, first_changes);
      if (!verb) continue;
      fwd = d.fwd;
    }
    if (!settings_.list_changes) continue;
    KernelPolicy policy = policy_of(c);
    if (fwd) policy.dir = PolicyDir::In;
    EntryChange e;
    e.verb = *verb;
    if (*verb == ChangeVerb::Change && !fwd) {
      Change before = c;
      before.original = true;
      e.policy_before = policy_of(before);
    }
    e.policy = std::move(policy);
    report_.entries.push_back(std::move(e));
  }
}

void ChannelLoad::report_state_changes() {
  ChangeCounts& sas = report_.counts[kSas];
  for (std::size_t i = 0; i < changes_.size(); ++i) {
    const Change& c = changes_[i];
    if (is_policy(c.kind)) continue;
    // A changed SA is taken out and put back: one change.
    if (adding_ && !c.stale && c.kind == ChangeKind::DeleteState) continue;
    const ChangeVerb verb = c.kind == ChangeKind::DeleteState ? ChangeVerb::Remove
                            : state_presence_[c.ref] == Presence::Differs ? ChangeVerb::Change
                                                                          : ChangeVerb::Add;
    sas.count(verb);
    if (!settings_.list_changes) continue;
    EntryChange e;
    e.verb = verb;
    e.state = state_of(c);
    report_.entries.push_back(std::move(e));
  }
  for (const Presence p : state_presence_)
    if (p == (adding_ ? Presence::Same : Presence::Absent)) ++sas.unchanged;
}

}  // namespace ipsecctl::backends
