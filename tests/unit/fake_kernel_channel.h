// An in-memory SPD and SAD behind the KernelChannel seam, so that the
// kernel backend's loads, reloads, removals and undo can be tested without
// root. It answers as Linux's XFRM does: a change is processed when it is
// queued, adding an entry whose identity exists fails with EEXIST,
// updating or removing one that does not exist with ENOENT, and the
// failures come back, by tag, from send().
//
// Failures can be arranged by change: the nth change of a kind fails with
// an errno of the test's choice, the answers of a send can be lost (as
// with ENOBUFS, when the kernel processed every change but some refusals
// never arrived), and another program can write between two changes.
#pragma once

#include <cerrno>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "backends/kernel/kernel_channel.h"

namespace ipsecctl::testing {

class FakeKernelChannel final : public backends::KernelChannel {
 public:
  using Policy = backends::KernelPolicy;
  using State = backends::KernelState;
  using ChangeKind = backends::ChangeKind;

  // What the fake kernel holds, by identity.
  std::map<backends::Fingerprint, Policy> spd;
  std::map<backends::Fingerprint, State> sad;

  // Every change queued, in order (what the kernel was asked).
  struct Request {
    ChangeKind kind;
    backends::Fingerprint id;
    std::uint32_t tag;
    int error;  // what the kernel answered (0: done)
  };
  std::vector<Request> requests;
  int sends = 0;  // send() calls
  int dumps = 0;  // dump_policies() calls

  // The change with this 0-based number (counting every change queued on
  // this channel) fails with `error` and changes nothing.
  std::map<std::size_t, int> fail_request;
  // The next send() reports no failures and says answers were lost.
  bool lose_answers_once = false;
  // Called before the change with this number is processed: another
  // program writing meanwhile.
  std::map<std::size_t, std::function<void(FakeKernelChannel&)>> before_request;

  std::string name() const override { return "FAKE"; }

  void dump_policies(const std::function<void(Policy&&)>& each) override {
    ++dumps;
    for (const auto& [id, p] : spd) {
      Policy copy = p;
      copy.origin = {};
      each(std::move(copy));
    }
  }
  void dump_states(const std::function<void(State&&)>& each) override {
    for (const auto& [id, s] : sad) {
      State copy = s;
      copy.origin = {};
      each(std::move(copy));
    }
  }

  void queue_policy(ChangeKind kind, const Policy& policy, std::uint32_t tag) override {
    change(spd, backends::policy_identity(policy), policy, kind, tag, ENOENT);
  }
  void queue_state(ChangeKind kind, const State& state, std::uint32_t tag) override {
    change(sad, backends::state_identity(state), state, kind, tag, ESRCH);
  }

  backends::SendOutcome send() override {
    ++sends;
    backends::SendOutcome out;
    if (lose_answers_once) {
      lose_answers_once = false;
      out.answers_lost = true;
      pending_.failures.clear();
    }
    out.failures = std::move(pending_.failures);
    pending_ = {};
    return out;
  }

  // Policies can be read one by one (as over XFRM), unless a test says not.
  bool gets = true;
  int got = 0;  // get_policy() calls
  bool can_get_policy() const override { return gets; }
  std::optional<Policy> get_policy(const Policy& like) override {
    ++got;
    auto it = spd.find(backends::policy_identity(like));
    if (it == spd.end()) return std::nullopt;
    Policy copy = it->second;
    copy.origin = {};
    return copy;
  }

  void flush_all() override {
    spd.clear();
    sad.clear();
  }
  void monitor(const std::function<bool(const backends::MonitorEvent&)>&) override {}

  // A policy as another program would add it.
  void add_foreign(const Policy& policy) { spd[backends::policy_identity(policy)] = policy; }

 private:
  int arranged() {
    const std::size_t n = requests.size();
    if (auto hook = before_request.find(n); hook != before_request.end()) {
      auto call = hook->second;
      before_request.erase(hook);
      call(*this);
    }
    auto it = fail_request.find(n);
    return it == fail_request.end() ? 0 : it->second;
  }
  // One change to one database. `missing`: what removing an entry that
  // is not there fails with (policies ENOENT, SAs ESRCH, as Linux says).
  template <typename Entry>
  void change(std::map<backends::Fingerprint, Entry>& db, const backends::Fingerprint& id,
              const Entry& entry, ChangeKind kind, std::uint32_t tag, int missing) {
    int error = arranged();
    if (error == 0) {
      const bool held = db.count(id) != 0;
      switch (kind) {
        case ChangeKind::AddPolicy:
        case ChangeKind::AddState:
          if (held) error = EEXIST;
          else db[id] = entry;
          break;
        case ChangeKind::UpdatePolicy:  // XFRM_MSG_UPDPOLICY adds what is missing
          db[id] = entry;
          break;
        case ChangeKind::DeletePolicy:
        case ChangeKind::DeleteState:
          if (!held) error = missing;
          else db.erase(id);
          break;
      }
    }
    requests.push_back({kind, id, tag, error});
    if (error != 0) pending_.failures.push_back({tag, error, {}});
  }

  backends::SendOutcome pending_;
};

}  // namespace ipsecctl::testing
