// The kernel backend against an in-memory kernel (FakeKernelChannel):
// loads, reloads, duplicates, stale removal, conflicts, interruptions and
// undo, each as it ends in the kernel and in the file's record. The
// streamed way (flows handed over one by one while the file is compiled,
// after the kernel was read) must leave the same kernel and the same
// record as the ordinary way.
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>

#include "backends/kernel/channel_backend.h"
#include "tests/unit/compile_helper.h"
#include "tests/unit/fake_kernel_channel.h"

namespace ipsecctl::testing {
namespace {

using backends::Action;
using backends::ChangeKind;
using backends::OwnedEntries;
using backends::SyncScope;

enum class Way { Ordinary, Prefetched, Streamed };

const char* way_name(Way w) {
  return w == Way::Ordinary ? "ordinary" : w == Way::Prefetched ? "prefetched" : "streamed";
}

// One kernel, its backend, and the records a store would keep, by source.
class KernelLab {
 public:
  KernelLab() : diag_(err_.get()) { reset_backend(); }

  FakeKernelChannel& kernel() { return *kernel_; }
  std::map<std::string, OwnedEntries> records;

  // Loads (or removes) `text` as the file `source`, the given way. `stop_after`:
  // the stop check answers true from its nth question on (a signal).
  bool load(const std::string& source, const std::string& text, Way way = Way::Ordinary,
            Action action = Action::Add, int stop_after = -1, bool dry_run = false) {
    // Compiled with the backend's diagnostics: its messages name the rules.
    compiler::Plan& plan = plans_.emplace_back();
    {
      compiler::RuleCompiler rules(resolver_, diag_, plan, nullptr);
      parser::MacroTable macros;
      parser::ParseDriver driver(rules, diag_, macros, {});
      const int errors_before = diag_.error_count();
      driver.parse_text(source, text);
      EXPECT_EQ(diag_.error_count(), errors_before) << err_.text();
    }
    // A load keeps referring to its scope until it is undone.
    Scope& held = scopes_.emplace_back();
    OwnedEntries& previous = held.previous;
    OwnedEntries& others = held.others;
    OwnedEntries& now = held.now;
    bool& as_before = held.as_before;
    SyncScope& scope = held.scope;
    if (records.count(source) != 0) previous = records[source];
    for (const auto& [name, r] : records)
      if (name != source)
        for (const auto& e : r.kernel) others.add(e);
    scope = SyncScope{&previous, &others, &now};
    scope.kernel_as_before = &as_before;
    int asked = 0;
    backends::LoadSettings settings;
    settings.stop = [&] { return stop_after >= 0 && ++asked > stop_after; };
    settings.list_changes = true;
    settings.dry_run = dry_run;
    last_ = backend_->begin_load(plan, action, scope, settings);
    if (way == Way::Streamed && action == Action::Add) {
      // The kernel is read first; flows go as they come.
      last_->learn_kernel();
      last_->send_early();
      for (std::uint32_t i = 0; i < plan.flows.size(); ++i) last_->add_flow(i);
    } else if (way == Way::Prefetched) {
      last_->learn_kernel();  // as a thread beside the compile would
    }
    const bool ok = last_->apply() && last_->confirm();
    changes = last_->changes();
    if (ok && !dry_run && action == Action::Add) records[source] = as_before ? previous : now;
    if (ok && !dry_run && action == Action::Delete) records.erase(source);
    return ok;
  }
  bool undo_last() { return last_->undo(); }
  backends::BackendChanges changes;  // what the last load reported
  std::string messages() { return err_.text(); }

  // What the kernel holds, as comparable text.
  std::map<backends::Fingerprint, std::uint64_t> spd() {
    std::map<backends::Fingerprint, std::uint64_t> out;
    for (const auto& [id, p] : kernel_->spd) out[id] = backends::policy_content(p);
    return out;
  }

 private:
  void reset_backend() {
    auto channel = std::make_unique<FakeKernelChannel>();
    kernel_ = channel.get();
    backend_ = std::make_unique<backends::ChannelBackend>(std::move(channel), diag_, resolver_);
  }

  FakeResolver resolver_;
  CapturedStream err_;
  Diagnostics diag_;
  FakeKernelChannel* kernel_ = nullptr;  // owned by backend_
  std::deque<compiler::Plan> plans_;     // a load refers to its plan
  struct Scope {
    OwnedEntries previous, others, now;
    bool as_before = false;
    SyncScope scope;
  };
  std::deque<Scope> scopes_;
  std::unique_ptr<backends::ChannelBackend> backend_;
  std::unique_ptr<backends::KernelLoad> last_;
};

constexpr const char* kTwoTunnels =
    "flow esp from 10.1.0.0/16 to 10.2.0.0/16 peer 192.0.2.2\n"
    "flow esp from 10.1.0.0/16 to 10.3.0.0/16 peer 192.0.2.3\n";

constexpr const char* kHosts =
    "flow esp from 192.0.2.1 to 192.0.2.2 peer 192.0.2.2\n"
    "flow esp from 192.0.2.1 to 192.0.2.3 peer 192.0.2.3\n"
    "flow esp proto tcp from 10.0.0.0/8 to 10.9.0.0/16 port 22 peer 192.0.2.9\n"
    "flow esp from 192.0.2.1 to 192.0.2.2 peer 192.0.2.2\n"  // written twice
    "flow esp from 0.0.0.0/0 to 10.8.0.0/16 peer 192.0.2.8\n";

std::size_t count(const FakeKernelChannel& k, ChangeKind kind) {
  std::size_t n = 0;
  for (const auto& r : k.requests) n += r.kind == kind && r.error == 0;
  return n;
}

class EachWay : public ::testing::TestWithParam<Way> {};

TEST_P(EachWay, AFirstLoadAddsEveryPolicyAndRecordsThem) {
  KernelLab lab;
  ASSERT_TRUE(lab.load("a.conf", kTwoTunnels, GetParam())) << lab.messages();
  // Tunnels: out, in and the in's forward twin.
  EXPECT_EQ(lab.kernel().spd.size(), 6u);
  EXPECT_EQ(lab.records["a.conf"].kernel.size(), 6u);
  EXPECT_EQ(lab.messages(), "");
}

TEST_P(EachWay, AFlowWrittenTwiceIsAddedOnce) {
  KernelLab lab;
  ASSERT_TRUE(lab.load("a.conf", kHosts, GetParam())) << lab.messages();
  // Host to host with the peer as destination: transport mode, out and in.
  EXPECT_EQ(lab.kernel().spd.size(), 2u + 2u + 3u + 3u);
  EXPECT_EQ(lab.records["a.conf"].kernel.size(), lab.kernel().spd.size());
  EXPECT_EQ(lab.messages(), "");
}

TEST_P(EachWay, AnUnchangedReloadSendsNothing) {
  KernelLab lab;
  ASSERT_TRUE(lab.load("a.conf", kTwoTunnels, GetParam()));
  const auto before = lab.kernel().requests.size();
  ASSERT_TRUE(lab.load("a.conf", kTwoTunnels, GetParam() == Way::Streamed ? Way::Prefetched
                                                                          : GetParam()));
  EXPECT_EQ(lab.kernel().requests.size(), before);
  EXPECT_EQ(lab.records["a.conf"].kernel.size(), 6u);
}

TEST_P(EachWay, AStreamedAndAnOrdinaryLoadLeaveTheSameKernelAndRecord) {
  for (const char* text : {kTwoTunnels, kHosts}) {
    KernelLab ordinary, other;
    ASSERT_TRUE(ordinary.load("a.conf", text, Way::Ordinary));
    ASSERT_TRUE(other.load("a.conf", text, GetParam())) << other.messages();
    EXPECT_EQ(ordinary.spd(), other.spd()) << way_name(GetParam());
    EXPECT_EQ(ordinary.records, other.records) << way_name(GetParam());
  }
}

TEST_P(EachWay, AForeignPolicyAddedMeanwhileUndoesTheWholeLoad) {
  KernelLab lab;
  // Another program adds the second tunnel's out policy while this load
  // runs (before its second change): the kernel refuses ours with EEXIST.
  KernelLab probe;
  ASSERT_TRUE(probe.load("x.conf", "flow esp out from 10.1.0.0/16 to 10.3.0.0/16 peer 192.0.2.3\n"));
  const auto victim = *probe.kernel().spd.begin();
  lab.kernel().before_request[1] = [victim](FakeKernelChannel& k) { k.add_foreign(victim.second); };
  EXPECT_FALSE(lab.load("a.conf", kTwoTunnels, GetParam()));
  // Only the other program's policy is left; no record was made.
  ASSERT_EQ(lab.kernel().spd.size(), 1u);
  EXPECT_EQ(lab.kernel().spd.begin()->first, victim.first);
  EXPECT_EQ(lab.records.count("a.conf"), 0u);
  EXPECT_NE(lab.messages().find("another program added it while this load ran"), std::string::npos)
      << lab.messages();
  EXPECT_NE(lab.messages().find("the kernel is as it was"), std::string::npos) << lab.messages();
}

TEST_P(EachWay, LostAnswersCountAsFailureAndEverythingIsUndone) {
  KernelLab lab;
  lab.kernel().lose_answers_once = true;
  EXPECT_FALSE(lab.load("a.conf", kTwoTunnels, GetParam()));
  EXPECT_TRUE(lab.kernel().spd.empty());
  EXPECT_NE(lab.messages().find("overflowed"), std::string::npos) << lab.messages();
}

TEST_P(EachWay, ARefusedChangeUndoesTheOthersNewestFirst) {
  KernelLab lab;
  lab.kernel().fail_request[4] = ENOMEM;
  EXPECT_FALSE(lab.load("a.conf", kTwoTunnels, GetParam()));
  EXPECT_TRUE(lab.kernel().spd.empty());
  // The undo removed the four that took, newest first.
  const auto& r = lab.kernel().requests;
  ASSERT_GE(r.size(), 6u + 5u);
  std::vector<backends::Fingerprint> added, removed;
  for (const auto& q : r) {
    if (q.kind == ChangeKind::AddPolicy && q.error == 0) added.push_back(q.id);
    if (q.kind == ChangeKind::DeletePolicy && q.error == 0) removed.push_back(q.id);
  }
  ASSERT_EQ(added.size(), 5u);
  ASSERT_EQ(removed.size(), 5u);
  for (std::size_t i = 0; i < added.size(); ++i) EXPECT_EQ(removed[i], added[added.size() - 1 - i]);
}

INSTANTIATE_TEST_SUITE_P(KernelLoad, EachWay,
                         ::testing::Values(Way::Ordinary, Way::Prefetched, Way::Streamed),
                         [](const auto& param_info) { return std::string(way_name(param_info.param)); });

TEST(KernelLoad, AReloadRemovesWhatLeftTheFileAndNothingElse) {
  KernelLab lab;
  ASSERT_TRUE(lab.load("a.conf", kTwoTunnels));
  ASSERT_TRUE(lab.load("b.conf", "flow esp from 10.7.0.0/16 to 10.2.0.0/16 peer 192.0.2.2\n"));
  // A policy somebody else added is never touched either.
  KernelLab probe;
  ASSERT_TRUE(probe.load("x.conf", "flow esp from 10.5.0.0/16 to 10.6.0.0/16 peer 192.0.2.6\n"));
  for (const auto& [id, p] : probe.kernel().spd) lab.kernel().add_foreign(p);
  ASSERT_TRUE(lab.load("a.conf", "flow esp from 10.1.0.0/16 to 10.2.0.0/16 peer 192.0.2.2\n",
                       Way::Prefetched))
      << lab.messages();
  EXPECT_EQ(lab.kernel().spd.size(), 3u + 3u + 3u);
  EXPECT_EQ(count(lab.kernel(), ChangeKind::DeletePolicy), 3u);
  EXPECT_EQ(lab.records["a.conf"].kernel.size(), 3u);
}

TEST(KernelLoad, AnEntrySomebodyChangedSinceIsNoLongerOursToRemove) {
  KernelLab lab;
  ASSERT_TRUE(lab.load("a.conf", kTwoTunnels));
  // Somebody re-pointed the second tunnel's out policy at another peer.
  KernelLab probe;
  ASSERT_TRUE(probe.load("x.conf", "flow esp out from 10.1.0.0/16 to 10.3.0.0/16 peer 192.0.2.99\n"));
  for (const auto& [id, p] : probe.kernel().spd) lab.kernel().add_foreign(p);
  ASSERT_TRUE(lab.load("a.conf", "flow esp from 10.1.0.0/16 to 10.2.0.0/16 peer 192.0.2.2\n"));
  // The in and fwd of the second tunnel went; the changed out stayed.
  EXPECT_EQ(lab.kernel().spd.size(), 3u + 1u);
}

TEST(KernelLoad, AChangedFlowIsUpdatedAndUndoRestoresTheOriginal) {
  KernelLab lab;
  ASSERT_TRUE(lab.load("a.conf", kTwoTunnels));
  const auto before = lab.spd();
  ASSERT_TRUE(lab.load("a.conf",
                       "flow esp from 10.1.0.0/16 to 10.2.0.0/16 peer 192.0.2.2\n"
                       "flow esp from 10.1.0.0/16 to 10.3.0.0/16 peer 192.0.2.33\n"));
  EXPECT_EQ(count(lab.kernel(), ChangeKind::UpdatePolicy), 3u);
  EXPECT_NE(lab.spd(), before);
  // Another backend failed later in the same run: the kernel part goes back.
  ASSERT_TRUE(lab.undo_last());
  EXPECT_EQ(lab.spd(), before);
}

TEST(KernelLoad, AFewUpdatesAreReadOneByOneAndManyByADump) {
  const std::string edited =
      "flow esp from 10.1.0.0/16 to 10.2.0.0/16 peer 192.0.2.2\n"
      "flow esp from 10.1.0.0/16 to 10.3.0.0/16 peer 192.0.2.33\n";
  for (bool gets : {true, false}) {
    KernelLab lab;
    lab.kernel().gets = gets;
    ASSERT_TRUE(lab.load("a.conf", kTwoTunnels));
    const auto before = lab.spd();
    const int dumps = lab.kernel().dumps;
    ASSERT_TRUE(lab.load("a.conf", edited));
    // One dump to compare; the originals one by one, or a second dump.
    EXPECT_EQ(lab.kernel().dumps - dumps, gets ? 1 : 2);
    EXPECT_EQ(lab.kernel().got, gets ? 3 : 0);
    ASSERT_TRUE(lab.undo_last());
    EXPECT_EQ(lab.spd(), before) << (gets ? "read one by one" : "read by a dump");
  }
}

TEST(KernelLoad, ASignalBetweenBatchesUndoesWhatWentOut) {
  KernelLab lab;
  std::string text;
  for (int i = 0; i < 3000; ++i)
    text += "flow esp from 10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250) +
            " to 10.2.0.1 peer 192.0.2.2\n";
  for (Way way : {Way::Ordinary, Way::Streamed}) {
    EXPECT_FALSE(lab.load("a.conf", text, way, Action::Add, 1)) << way_name(way);
    EXPECT_TRUE(lab.kernel().spd.empty()) << way_name(way);
    EXPECT_NE(lab.messages().find("was interrupted"), std::string::npos) << lab.messages();
  }
}

TEST(KernelLoad, RemovingAFileTakesOutItsEntriesOnly) {
  KernelLab lab;
  ASSERT_TRUE(lab.load("a.conf", kTwoTunnels));
  ASSERT_TRUE(lab.load("b.conf", "flow esp from 10.7.0.0/16 to 10.2.0.0/16 peer 192.0.2.2\n"));
  ASSERT_TRUE(lab.load("a.conf", kTwoTunnels, Way::Ordinary, Action::Delete)) << lab.messages();
  EXPECT_EQ(lab.kernel().spd.size(), 3u);
  EXPECT_EQ(lab.records.count("a.conf"), 0u);
  // Removing again finds nothing to remove, and that is no error.
  ASSERT_TRUE(lab.load("a.conf", kTwoTunnels, Way::Ordinary, Action::Delete)) << lab.messages();
}

TEST(KernelLoad, ARuleTheKernelCannotExpressStopsEverythingBeforeItIsSent) {
  KernelLab lab;
  EXPECT_FALSE(lab.load("a.conf", std::string(kTwoTunnels) +
                                      "flow esp from 10.4.0.0/16 to 10.5.0.0/16 peer 192.0.2.5 type acquire\n"));
  EXPECT_TRUE(lab.kernel().requests.empty());
  EXPECT_NE(lab.messages().find("nothing was loaded"), std::string::npos) << lab.messages();
}

TEST(KernelLoad, ManualSasGoFirstAndAreReplacedWhenTheyChange) {
  KernelLab lab;
  const std::string sa =
      "esp transport from 192.0.2.1 to 192.0.2.2 spi 0x1000 auth hmac-sha2-256 enc aes-128 "
      "authkey 0x" + std::string(64, 'a') + " enckey 0x" + std::string(32, 'b') + "\n";
  ASSERT_TRUE(lab.load("a.conf", sa + "flow esp from 192.0.2.1 to 192.0.2.2 peer 192.0.2.2\n"))
      << lab.messages();
  EXPECT_EQ(lab.kernel().sad.size(), 1u);
  EXPECT_EQ(lab.kernel().requests.front().kind, ChangeKind::AddState);
  std::string changed = sa;
  changed.replace(changed.find("0xbbbb"), 6, "0xcccc");
  ASSERT_TRUE(lab.load("a.conf",
                       changed + "flow esp from 192.0.2.1 to 192.0.2.2 peer 192.0.2.2\n"));
  EXPECT_EQ(lab.kernel().sad.size(), 1u);
  EXPECT_EQ(count(lab.kernel(), ChangeKind::DeleteState), 1u);
  EXPECT_EQ(count(lab.kernel(), ChangeKind::AddState), 2u);
}

// --diff is the same load with nothing sent: it says what a load would do,
// and a load then does exactly that.
TEST(KernelLoad, ADryRunChangesNothingAndSaysWhatTheLoadWillDo) {
  KernelLab lab;
  ASSERT_TRUE(lab.load("a.conf", kTwoTunnels));
  const auto requests = lab.kernel().requests.size();
  const std::string edited =
      "flow esp from 10.1.0.0/16 to 10.2.0.0/16 peer 192.0.2.2\n"      // unchanged
      "flow esp from 10.1.0.0/16 to 10.3.0.0/16 peer 192.0.2.33\n"     // peer changed
      "flow esp out from 10.1.0.0/16 to 10.4.0.0/16 peer 192.0.2.4\n";  // new
  ASSERT_TRUE(lab.load("a.conf", edited, Way::Prefetched, Action::Add, -1, true));
  EXPECT_EQ(lab.kernel().requests.size(), requests);  // nothing sent
  const backends::ChangeCounts flows = lab.changes.counts.at(backends::kFlows);
  // Flows as -s lists them: out and in; a fwd twin counts with its in.
  EXPECT_EQ(flows.added, 1u);
  EXPECT_EQ(flows.changed, 2u);
  EXPECT_EQ(flows.removed, 0u);
  EXPECT_EQ(flows.unchanged, 2u);
  ASSERT_EQ(lab.changes.entries.size(), 3u);
  std::size_t with_before = 0;
  for (const auto& e : lab.changes.entries) with_before += e.policy_before.has_value();
  EXPECT_EQ(with_before, 2u);
  // The load then does what the dry run said.
  ASSERT_TRUE(lab.load("a.conf", edited, Way::Prefetched));
  EXPECT_EQ(lab.changes.counts.at(backends::kFlows), flows);
  // And once done, there is nothing left to do.
  ASSERT_TRUE(lab.load("a.conf", edited, Way::Prefetched, Action::Add, -1, true));
  EXPECT_FALSE(lab.changes.any());
  EXPECT_EQ(lab.changes.counts.at(backends::kFlows).unchanged, 5u);
}

TEST(KernelLoad, ADryRunCountsWhatLeftTheFileAsRemoved) {
  KernelLab lab;
  ASSERT_TRUE(lab.load("a.conf", kTwoTunnels));
  ASSERT_TRUE(lab.load("a.conf", "flow esp from 10.1.0.0/16 to 10.2.0.0/16 peer 192.0.2.2\n",
                       Way::Ordinary, Action::Add, -1, true));
  const auto flows = lab.changes.counts.at(backends::kFlows);
  EXPECT_EQ(flows.removed, 2u);  // the out and the in (with its fwd)
  EXPECT_EQ(flows.added + flows.changed, 0u);
  EXPECT_EQ(lab.kernel().spd.size(), 6u);
  // -d, dry: everything the file has goes.
  ASSERT_TRUE(lab.load("a.conf", kTwoTunnels, Way::Ordinary, Action::Delete, -1, true));
  EXPECT_EQ(lab.changes.counts.at(backends::kFlows).removed, 4u);
  EXPECT_EQ(lab.kernel().spd.size(), 6u);
}

// An `in` flow to a peer with a transport SA is a transport policy
// without `fwd`; without the SA it becomes a tunnel one with its `fwd`.
// That is one changed flow, not a change and an addition (the property
// test in the guest found the extra line).
TEST(KernelLoad, AnInFlowThatGainsItsFwdPolicyIsOneChange) {
  const std::string flow = "flow esp in from 10.3.0.0/24 to 10.4.2.0/24 peer 192.0.2.14\n";
  const std::string sa =
      "esp transport from 192.0.2.1 to 192.0.2.14 spi 0x1000:0x1001 auth hmac-sha1 enc aes "
      "authkey 0x" + std::string(40, '1') + ":0x" + std::string(40, '2') + " enckey 0x" +
      std::string(32, '3') + ":0x" + std::string(32, '4') + "\n";
  KernelLab lab;
  ASSERT_TRUE(lab.load("a.conf", sa + flow));
  EXPECT_EQ(lab.kernel().spd.size(), 1u);  // transport: no fwd
  for (bool dry : {true, false}) {
    ASSERT_TRUE(lab.load("a.conf", flow, Way::Ordinary, Action::Add, -1, dry));
    const auto flows = lab.changes.counts.at(backends::kFlows);
    EXPECT_EQ(flows.changed, 1u) << (dry ? "dry run" : "load");
    EXPECT_EQ(flows.added + flows.removed, 0u) << (dry ? "dry run" : "load");
    EXPECT_EQ(lab.changes.entries.size(), 3u);  // the flow, and the two SAs removed
  }
  EXPECT_EQ(lab.kernel().spd.size(), 2u);  // tunnel: in and fwd
  // And back: the fwd goes with the same one change.
  ASSERT_TRUE(lab.load("a.conf", sa + flow));
  const auto flows = lab.changes.counts.at(backends::kFlows);
  EXPECT_EQ(flows.changed, 1u);
  EXPECT_EQ(flows.added + flows.removed, 0u);
  EXPECT_EQ(lab.kernel().spd.size(), 1u);
}

TEST(KernelLoad, AFirstLoadReportsEveryFlowAndSaAsAdded) {
  for (Way way : {Way::Ordinary, Way::Streamed}) {
    KernelLab lab;
    ASSERT_TRUE(lab.load("a.conf", kHosts, way));
    const auto flows = lab.changes.counts.at(backends::kFlows);
    // Two transport host pairs (out, in), two tunnels (out, in); the
    // duplicate is not a flow of its own.
    EXPECT_EQ(flows.added, 8u) << way_name(way);
    EXPECT_EQ(flows.unchanged, 0u) << way_name(way);
  }
}

}  // namespace
}  // namespace ipsecctl::testing
