// One load of a plan into the kernel through a KernelChannel: the only
// place where the plan and the kernel are compared, changes are ordered
// and sent, refusals are reported and undone.
//
//   1. Flows are fed as the compiler adds them (add_flow): each is checked
//      for what the kernel can express, lowered to its policies and
//      fingerprinted (32 bytes a policy, for 10^5 flows). Once the kernel
//      is known, each is compared with it at once; once send_early() was
//      called, a new policy between two single hosts goes out at once.
//   2. apply() feeds the rest and stops the load at any rule the kernel
//      cannot express, before anything more is sent (and takes back what
//      went out early). A policy written twice is added once, the first
//      time: a sort by identity finds the later copies (if one went out
//      early, the kernel's EEXIST for it is expected and forgiven).
//   3. What an earlier load of the file added and the file no longer has
//      is stale, unless another file claims it or somebody changed it
//      since; whole policies are read again only for those and for the
//      ones this load updates (undo needs them).
//   4. Changes are sent stale entries first (narrowest policies first),
//      then SAs, then policies from the widest selectors to the narrowest
//      (inserting a covering prefix after its sub-prefixes is what makes
//      the kernel's inexact-policy lists slow). Removing (-d) goes
//      narrowest first. The record and the report are made while the
//      kernel inserts; confirm() waits for one send() that confirms all.
//   5. When the kernel refuses anything, or a stop is asked for, every
//      change of this run that took effect is undone, newest first, and
//      the kernel ends as it began.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/backend.h"
#include "backends/kernel/kernel_changes.h"
#include "backends/kernel/lower_plan.h"
#include "common/diagnostics.h"
#include "compiler/resolver.h"

namespace ipsecctl::backends {

class ChannelLoad final : public KernelLoad, private ChangeEntries {
 public:
  ChannelLoad(KernelChannel& channel, Diagnostics& diagnostics, compiler::Resolver& resolver,
              const compiler::Plan& plan, Action action, const SyncScope& scope,
              LoadSettings settings);

  void learn_kernel() override;
  void send_early() override;
  void add_flow(std::uint32_t index) override;
  bool apply() override;
  bool confirm() override;
  bool undo() override;
  const BackendChanges& changes() const override { return report_; }

 private:
  // Unknown: not compared with the kernel yet. SentEarly: absent, and
  // already on its way (send_early()).
  enum class Presence : std::uint8_t { Unknown, Absent, Same, Differs, Duplicate, SentEarly };
  // One policy the plan asks for; the policy itself is lowered again
  // when it is sent.
  struct Desired {
    Fingerprint id;
    std::uint64_t content = 0;
    std::uint32_t flow = 0;
    std::uint8_t sub = 0;
    bool fwd = false;  // the forward twin of an `in` flow's policy
    Presence presence = Presence::Unknown;
    std::uint16_t specificity = 0;
  };
  // A policy the kernel holds, as far as comparing needs it.
  struct Held {
    Fingerprint id;
    std::uint64_t content = 0;
    friend bool operator<(const Held& a, const Held& b) { return a.id < b.id; }
  };

  // ChangeEntries
  KernelPolicy policy_of(const Change& c) const override;
  const KernelState& state_of(const Change& c) const override;

  void compare(Desired& d) const;
  void maybe_send_early(std::uint32_t k, const KernelPolicy& policy);
  bool refuse_inexpressible();
  // Reports a failure to reach the kernel, and takes back what went out.
  bool failed(const KernelError& error);
  void sort_by_identity();
  // By identity, then flow and sub: the same order std::sort with that
  // comparison gives, in a few passes (identities are hashes, spread
  // evenly, so their first 16 bits share them out almost equally).
  static void sort_desired(std::vector<Desired>& desired);
  void compare_states();
  void find_stale();
  void read_whole_policies();
  void plan_changes();
  bool settle(const SentChanges& sent);
  std::string describe(const Change& c, SourceLocation& origin) const;
  // Undoes the changes `effect` marks; says how many through `done`.
  bool take_back(const std::vector<bool>& effect, std::size_t& done);
  // Confirms and undoes what went out early (send_early()).
  bool take_back_early();
  // Back to a load that has been fed nothing (the kernel stays known).
  void forget_flows();
  bool record_unchanged() const;
  void record_ownership();
  void build_report();
  std::optional<ChangeVerb> verb_of(Presence p) const;
  std::optional<ChangeVerb> shown_verb(const Desired& d,
                                       const std::vector<bool>& first_changes) const;
  void report_policy_changes(const std::vector<bool>& first_changes);
  void report_state_changes();

  KernelChannel& channel_;
  Diagnostics& diag_;
  compiler::Resolver& resolver_;
  const compiler::Plan& plan_;
  const bool adding_;
  const SyncScope& scope_;
  LoadSettings settings_;
  // Made when the first flow comes: it takes the plan's SAs for the
  // flows' modes, and the plan may still be growing when the load begins.
  mutable std::optional<PlanLowering> lowering_;
  const PlanLowering& lowering() const;

  // In the order the flows came; apply() sorts them by identity.
  std::vector<Desired> desired_;
  std::uint32_t next_flow_ = 0;   // the first flow not fed yet
  std::vector<std::uint32_t> refused_;  // flows the kernel cannot express

  bool learned_ = false;
  std::optional<std::string> learn_error_;
  // Sorted by identity. A deque: it grows by pieces, never holding an old
  // and a new copy of 10^5 entries at once (it may be read beside the compile).
  std::deque<Held> held_;
  std::vector<KernelState> held_states_;  // whole: few, and compared in full

  std::vector<KernelState> states_;  // the plan's SAs, lowered
  std::vector<Presence> state_presence_;
  std::vector<std::optional<KernelState>> state_originals_;
  std::unordered_map<std::uint32_t, KernelPolicy> policy_originals_;  // by desired index
  std::vector<Held> stale_ids_;  // held ones that are stale, sorted
  std::vector<KernelPolicy> stale_policies_;  // as the kernel holds them
  std::vector<KernelState> stale_states_;

  std::vector<Change> changes_;
  std::size_t sent_early_ = 0;  // changes_[0, sent_early_) went out early
  // Their answers, when they had to be confirmed before the kernel was
  // read again (else the final send() confirms them with the rest).
  bool early_confirmed_ = false;
  SendOutcome early_outcome_;
  bool early_ = false;
  bool stopped_ = false;
  bool finished_ = false;  // confirmed
  // apply() queued changes_ [0, queued_.count) for confirm(); the record
  // in the scope had `owned_before_` kernel entries before it added this
  // load's.
  SentChanges queued_;
  std::size_t owned_before_ = 0;
  std::vector<bool> effect_;  // which changes took effect (once confirmed)
  BackendChanges report_;
};

}  // namespace ipsecctl::backends
