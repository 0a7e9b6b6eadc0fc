// The engine without root: Session::load, the one entry point of a load,
// driven end to end with an in-memory kernel (FakeKernelChannel behind the
// real kernel backend) and a fake IKE daemon, through the real lock,
// records, first pass, streaming gate and undo. What each test checks is
// what ends up in the kernel, the daemon and the file's record.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "backends/kernel/channel_backend.h"
#include "compiler/ike_policy.h"
#include "engine/session.h"
#include "tests/unit/compile_helper.h"
#include "tests/unit/fake_kernel_channel.h"

namespace ipsecctl::testing {
namespace {

using backends::Action;
using backends::ChangeKind;
using engine::LoadMode;
using engine::LoadRequest;
using engine::LoadResult;

// What the fake daemon holds and was asked, across sessions.
struct DaemonState {
  std::set<std::string> connections;  // rule names, as a daemon would hold them
  bool refuse = false;                // apply() refuses everything
  int applies = 0;
  bool last_dry_run = false;
};

// An IKE daemon that holds one connection per ike rule, by isakmpd's
// phase 2 name, records them for the file, and can refuse a load.
class FakeDaemon final : public backends::IkeBackend {
 public:
  FakeDaemon(Diagnostics& diagnostics, DaemonState& state) : IkeBackend(diagnostics), s_(state) {}
  std::string name() const override { return "fake daemon"; }
  bool apply(const compiler::Plan& plan, Action action, const backends::SyncScope& scope,
             const backends::LoadSettings& settings, backends::BackendChanges& changes) override {
    ++s_.applies;
    s_.last_dry_run = settings.dry_run;
    changes.backend = name();
    if (s_.refuse) {
      if (!plan.ikes.empty()) diag_.error_at(plan.ikes.front().origin, "the daemon refuses it");
      return false;
    }
    std::set<std::string> names;
    for (const auto& r : plan.ikes) names.insert(compiler::ike_policy(r).names.phase2);
    for (const auto& n : names) {
      const bool held = s_.connections.count(n) != 0;
      if (action == Action::Add && !held) changes.counts[backends::kConnections].count(
                                              backends::ChangeVerb::Add);
      if (action == Action::Delete && held) changes.counts[backends::kConnections].count(
                                                backends::ChangeVerb::Remove);
    }
    if (settings.dry_run) return true;
    for (const auto& n : names) {
      if (action == Action::Add) s_.connections.insert(n);
      else s_.connections.erase(n);
    }
    if (scope.previous != nullptr && action == Action::Add)
      for (const auto* e : scope.previous->of(backends::OwnedKind::IsakmpdRule))
        if (names.count(e->key) == 0) s_.connections.erase(e->key);  // left the file
    if (scope.now != nullptr && action == Action::Add)
      for (const auto& n : names) scope.now->add({backends::OwnedKind::IsakmpdRule, n, 0, {}});
    return true;
  }
  bool remove_owned(const backends::OwnedEntries&) override { return true; }
  bool wait_for_tunnels(std::chrono::seconds) override { return true; }

 private:
  DaemonState& s_;
};

// A state directory of the test's own (records and the lock), a kernel
// and a daemon that outlive each session, as the real ones do.
class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ipsecctl-session-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    ::setenv("IPSECCTL_STATE_DIR", (dir_ + "/state").c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("IPSECCTL_STATE_DIR");
    std::filesystem::remove_all(dir_);
  }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    ::chmod(path.c_str(), 0600);
    return path;
  }

  // One run of ipsecctl: a fresh session over the same kernel and daemon.
  LoadResult run(const std::string& path, Action action = Action::Add,
                 LoadMode mode = LoadMode::Load) {
    CapturedStream err;
    LoadResult result;
    {
      Diagnostics diag(err.get());
      engine::Targets targets;
      targets.kernel = [this](Diagnostics& d, compiler::Resolver& r) {
        return std::make_unique<backends::ChannelBackend>(std::make_unique<SharedKernel>(kernel),
                                                          d, r);
      };
      targets.ike_daemon = [this](Diagnostics& d) -> std::unique_ptr<backends::IkeBackend> {
        if (!daemon_up) return nullptr;
        return std::make_unique<FakeDaemon>(d, daemon);
      };
      targets.ike_daemons_looked_for = [] { return std::string("the fake daemon is down"); };
      engine::Session session({}, diag, resolver_, std::move(targets));
      LoadRequest request;
      request.compile.path = path;
      request.action = action;
      request.mode = mode;
      request.list_changes = true;
      request.compile.listener = listener;
      session.load(request, result);
    }
    messages = err.text();
    return result;
  }

  // Told of every rule as the compile adds it.
  compiler::RuleListener* listener = nullptr;

  // A channel the backend owns that works on the test's kernel.
  class SharedKernel final : public backends::KernelChannel {
    using Policy = backends::KernelPolicy;
    using State = backends::KernelState;

   public:
    explicit SharedKernel(FakeKernelChannel& k) : k_(k) {}
    std::string name() const override { return k_.name(); }
    void dump_policies(const std::function<void(Policy&&)>& each) override {
      k_.dump_policies(each);
    }
    void dump_states(const std::function<void(State&&)>& each) override { k_.dump_states(each); }
    void queue_policy(backends::ChangeKind kind, const Policy& p, std::uint32_t tag) override {
      k_.queue_policy(kind, p, tag);
    }
    void queue_state(backends::ChangeKind kind, const State& s, std::uint32_t tag) override {
      k_.queue_state(kind, s, tag);
    }
    backends::SendOutcome send() override { return k_.send(); }
    bool can_get_policy() const override { return k_.can_get_policy(); }
    std::optional<Policy> get_policy(const Policy& like) override { return k_.get_policy(like); }
    void flush_all() override { k_.flush_all(); }
    void monitor(const std::function<bool(const backends::MonitorEvent&)>& each) override {
      k_.monitor(each);
    }

   private:
    FakeKernelChannel& k_;
  };

  FakeKernelChannel kernel;
  DaemonState daemon;
  bool daemon_up = true;
  std::string messages;

  // Names the compile looks up (the first pass never does), each taking
  // its time: the compile then surely ends after the first pass has
  // answered, as it does with a large file on a real machine.
  class SlowResolver final : public FakeResolver {
   public:
    std::vector<compiler::IpAddress> lookup_host(const std::string& n) override {
      std::this_thread::sleep_for(std::chrono::microseconds(500));
      return FakeResolver::lookup_host(n);
    }
  };
  SlowResolver& resolver() { return resolver_; }

 private:
  SlowResolver resolver_;
  std::string dir_;
};

constexpr const char* kGateway =
    "flow esp from 10.1.0.0/16 to 10.2.0.0/16 peer 192.0.2.2\n"
    "esp from 192.0.2.1 to 192.0.2.2 spi 0x1000:0x1001 "
    "authkey 0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff:"
    "0xffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100 "
    "enckey 0x00112233445566778899aabbccddeeff:0xffeeddccbbaa99887766554433221100\n"
    "ike dynamic esp from 10.1.0.0/16 to 10.3.0.0/16 peer 192.0.2.3 psk \"s\"\n";

// What the kernel holds, as comparable fingerprints.
std::map<backends::Fingerprint, std::uint64_t> contents(const FakeKernelChannel& k) {
  std::map<backends::Fingerprint, std::uint64_t> out;
  for (const auto& [id, p] : k.spd) out[id] = backends::policy_content(p);
  for (const auto& [id, st] : k.sad) out[id] = backends::state_content(st);
  return out;
}

std::size_t count(const FakeKernelChannel& k, ChangeKind kind) {
  std::size_t n = 0;
  for (const auto& r : k.requests) n += r.kind == kind && r.error == 0;
  return n;
}

TEST_F(SessionTest, ALoadPutsFlowsSasAndIkeRulesInPlaceAndARemovalTakesThemOut) {
  const std::string conf = write("gw.conf", kGateway);
  LoadResult loaded = run(conf);
  ASSERT_TRUE(loaded.ok) << messages;
  EXPECT_EQ(kernel.spd.size(), 3u);  // out, in, fwd
  EXPECT_EQ(kernel.sad.size(), 2u);
  EXPECT_EQ(daemon.connections, std::set<std::string>{"from-10.1.0.0/16-to-10.3.0.0/16"});
  ASSERT_EQ(loaded.changes.size(), 2u);  // the kernel's, then the daemon's
  EXPECT_TRUE(loaded.changed());
  // An unchanged reload sends nothing.
  const std::size_t asked = kernel.requests.size();
  LoadResult again = run(conf);
  ASSERT_TRUE(again.ok) << messages;
  EXPECT_FALSE(again.changed());
  EXPECT_EQ(kernel.requests.size(), asked);
  LoadResult removed = run(conf, Action::Delete);
  ASSERT_TRUE(removed.ok) << messages;
  EXPECT_TRUE(kernel.spd.empty() && kernel.sad.empty());
  EXPECT_TRUE(daemon.connections.empty());
}

TEST_F(SessionTest, ADaemonThatRefusesTakesTheKernelPartBackToWhatItWas) {
  kernel.add_foreign(backends::KernelPolicy{});  // another program's policy stays
  const auto before = kernel.spd.size();
  daemon.refuse = true;
  LoadResult r = run(write("gw.conf", kGateway));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(messages.find("gw.conf: 3: the daemon refuses it"), std::string::npos) << messages;
  EXPECT_EQ(kernel.spd.size(), before);
  EXPECT_TRUE(kernel.sad.empty());
  // The kernel part had gone in, and was taken out again.
  EXPECT_EQ(count(kernel, ChangeKind::AddState), 2u);
  EXPECT_EQ(count(kernel, ChangeKind::DeleteState), 2u);
}

TEST_F(SessionTest, IkeRulesWithoutADaemonLoadNothing) {
  daemon_up = false;
  LoadResult r = run(write("gw.conf", kGateway));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(messages.find("no IKE daemon was found: the fake daemon is down; nothing was loaded"),
            std::string::npos)
      << messages;
  EXPECT_TRUE(kernel.requests.empty());
}

// A first load of a large file goes to the kernel while it compiles, once
// the first pass has read the whole file clean. Its hosts are names, each
// looked up slowly by the compile (see SlowResolver).
std::string many_flows(FakeResolver& resolver, std::size_t n, const std::string& last_line) {
  std::string text;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string name = "host" + std::to_string(i);
    resolver.hosts[name] = {*compiler::parse_ipv4("10.0." + std::to_string(i / 250) + "." +
                                                  std::to_string(i % 250 + 1))};
    text += "flow esp from " + name + " to 192.0.2.2 peer 192.0.2.2\n";
  }
  return text + last_line;
}

TEST_F(SessionTest, ALargeFileStreamsAndAnErrorAtItsEndTakesBackWhatWentOut) {
  // The first pass only reads syntax: a missing peer for a network is the
  // compiler's to find, after thousands of flows have gone out.
  const std::string conf =
      write("big.conf", many_flows(resolver(), 1500, "flow esp from 10.9.0.0/16 to 10.8.0.0/16\n"));
  LoadResult r = run(conf);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(messages.find("big.conf: 1501: no peer specified for destination 10.8.0.0/16"),
            std::string::npos)
      << messages;
  EXPECT_GT(count(kernel, ChangeKind::AddPolicy), 0u) << "nothing went out early";
  EXPECT_EQ(count(kernel, ChangeKind::AddPolicy), count(kernel, ChangeKind::DeletePolicy));
  EXPECT_TRUE(kernel.spd.empty());
}

TEST_F(SessionTest, ASyntaxErrorAnywhereKeepsTheStreamClosed) {
  const std::string conf = write("big.conf", many_flows(resolver(), 1500, "flow esp from nowhere\n"));
  LoadResult r = run(conf);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(kernel.requests.empty()) << kernel.requests.size() << " changes went out";
}

TEST_F(SessionTest, AStreamedLoadEndsAsTheOrdinaryOneWould) {
  const std::string text = many_flows(resolver(), 1500, "");
  // How much the kernel had been asked when the compile added its last rule.
  struct Watch final : compiler::RuleListener {
    explicit Watch(const FakeKernelChannel& k) : kernel(k) {}
    void macro_defined(const std::string&, const std::string&) override {}
    void rule_added(const compiler::Plan&, compiler::RuleRef) override {
      asked_before_last_rule = kernel.requests.size();
    }
    const FakeKernelChannel& kernel;
    std::size_t asked_before_last_rule = 0;
  } watch(kernel);
  listener = &watch;
  LoadResult streamed = run(write("big.conf", text));
  listener = nullptr;
  ASSERT_TRUE(streamed.ok) << messages;
  EXPECT_EQ(kernel.spd.size(), 1500u * 2);  // each host pair's out and in
  EXPECT_GE(watch.asked_before_last_rule, 1499u * 2) << "it did not stream";
  EXPECT_EQ(kernel.sends, 1) << "one confirmation for all of them";
  // The same file, read again: a reload, which never streams, finds it all.
  LoadResult reloaded = run(write("big.conf", text));
  ASSERT_TRUE(reloaded.ok) << messages;
  EXPECT_FALSE(reloaded.changed());
}

TEST_F(SessionTest, DiffSaysWhatALoadWouldDoAndChangesNothing) {
  const std::string conf = write("gw.conf", kGateway);
  ASSERT_TRUE(run(conf).ok) << messages;
  const auto held = contents(kernel);
  const std::size_t asked = kernel.requests.size();
  write("gw.conf", "flow esp from 10.1.0.0/16 to 10.4.0.0/16 peer 192.0.2.4\n"
                   "ike dynamic esp from 10.1.0.0/16 to 10.3.0.0/16 peer 192.0.2.3 psk \"s\"\n");
  LoadResult d = run(conf, Action::Add, LoadMode::Diff);
  ASSERT_TRUE(d.ok) << messages;
  EXPECT_TRUE(d.changed());
  ASSERT_EQ(d.changes.size(), 2u);
  const auto& flows = d.changes[0].counts.at(backends::kFlows);
  EXPECT_EQ(flows.added, 2u);    // the new tunnel's out and in
  EXPECT_EQ(flows.removed, 2u);  // the old one's
  EXPECT_EQ(d.changes[0].counts.at(backends::kSas).removed, 2u);
  EXPECT_TRUE(daemon.last_dry_run);
  EXPECT_EQ(contents(kernel), held);
  EXPECT_EQ(kernel.requests.size(), asked);
  // And the load then does what the diff said.
  LoadResult l = run(conf);
  ASSERT_TRUE(l.ok) << messages;
  EXPECT_EQ(l.changes[0].counts.at(backends::kFlows).added, 2u);
  EXPECT_EQ(l.changes[0].counts.at(backends::kFlows).removed, 2u);
}

TEST_F(SessionTest, RemovingWhatIsAlreadyGoneIsNoFailure) {
  const std::string conf = write("gw.conf", kGateway);
  ASSERT_TRUE(run(conf).ok) << messages;
  // Another program took one policy and one SA out meanwhile: the kernel
  // answers ENOENT and ESRCH when they are removed again.
  kernel.spd.erase(kernel.spd.begin());
  kernel.sad.erase(kernel.sad.begin());
  // The removal reads the kernel first and does not ask for what is gone;
  // a reload that drops everything goes the same way. Arrange for the
  // kernel to lose them between that read and the removal, too.
  LoadResult r = run(conf, Action::Delete);
  EXPECT_TRUE(r.ok) << messages;
  EXPECT_TRUE(kernel.spd.empty() && kernel.sad.empty());
  ASSERT_TRUE(run(conf).ok) << messages;
  std::size_t next = kernel.requests.size();
  kernel.before_request[next] = [](FakeKernelChannel& k) { k.spd.clear(); };
  kernel.before_request[next + 3] = [](FakeKernelChannel& k) { k.sad.clear(); };
  LoadResult late = run(conf, Action::Delete);
  EXPECT_TRUE(late.ok) << messages;
  bool enoent = false, esrch = false;
  for (const auto& q : kernel.requests) {
    enoent = enoent || q.error == ENOENT;
    esrch = esrch || q.error == ESRCH;
  }
  EXPECT_TRUE(enoent && esrch) << "the kernel never answered ENOENT and ESRCH";
  EXPECT_TRUE(kernel.spd.empty() && kernel.sad.empty());
}

}  // namespace
}  // namespace ipsecctl::testing
