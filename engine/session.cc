#include "engine/session.h"

#include <thread>

#include "backends/kernel/kernel_channel.h"
#include "backends/host_routes.h"
#include <sys/stat.h>
#include "backends/xfrm/xfrm_interfaces.h"
#include "engine/first_pass.h"
#include "engine/load_lock.h"
#include "engine/ownership_store.h"

namespace ipsecctl::engine {

using backends::Action;

// The lock, the records and a kernel reader running while the caller
// compiles (prepare_apply).
struct Session::Prepared {
  std::string source;
  std::optional<LoadLock> lock;
  std::unique_ptr<OwnershipStore> store;
  backends::OwnedEntries previous;
  backends::OwnedEntries others;
  backends::SyncScope scope;
  std::thread reader;
  ~Prepared() {
    if (reader.joinable()) reader.join();
  }
};

Session::Session(SessionOptions options, Diagnostics& diagnostics, compiler::Resolver& resolver)
    : options_(std::move(options)), diag_(diagnostics), resolver_(resolver) {}

Session::~Session() = default;

bool Session::prepare_apply(const std::string& path, const std::string& source) {
  prepared_.reset();
  struct stat st {};
  if (path == "-" || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return true;
  backends::KernelBackend* kernel_backend = nullptr;
  try {
    kernel_backend = &kernel();
  } catch (const backends::KernelError&) {
    return true;  // apply() reports it, after the file's own errors
  }
  auto lock = LoadLock::acquire(diag_, options_.lock_patience);
  if (!lock) return false;
  auto p = std::make_unique<Prepared>();
  p->source = source;
  p->lock = std::move(lock);
  p->store = std::make_unique<OwnershipStore>(diag_);
  p->previous = p->store->load(source);
  p->others = p->store->others(source);
  p->scope = backends::SyncScope{&p->previous, &p->others, nullptr};
  p->reader = std::thread([kernel_backend, scope = &p->scope] { kernel_backend->prefetch(*scope); });
  prepared_ = std::move(p);
  return true;
}

backends::KernelBackend& Session::kernel() {
  if (!kernel_) {
    const auto* info = backends::find_kernel_interface(options_.kernel);
    if (info == nullptr)
      throw backends::KernelError("unknown kernel interface '" + options_.kernel +
                                  "' (known: " + backends::kernel_interface_names() + ")");
    kernel_ = info->make(diag_, resolver_);
  }
  return *kernel_;
}

std::unique_ptr<backends::IkeBackend> Session::ike_daemon() {
  for (const auto& daemon : backends::ike_daemons()) {
    if (options_.ike != "auto" && options_.ike != daemon.name) continue;
    if (daemon.present(options_.endpoints)) return daemon.make(options_.endpoints, diag_);
  }
  return nullptr;
}

std::string Session::ike_daemons_looked_for() const {
  std::string reasons;
  for (const auto& daemon : backends::ike_daemons()) {
    if (options_.ike != "auto" && options_.ike != daemon.name) continue;
    reasons += (reasons.empty() ? "" : ", and ") + daemon.absent_reason(options_.endpoints);
  }
  return reasons;
}

namespace {

// Only the daemon's part of a record.
backends::OwnedEntries daemon_part(const backends::OwnedEntries& entries) {
  backends::OwnedEntries out;
  out.entries = entries.entries;
  return out;
}

}  // namespace

bool Session::check_sec_interfaces(const compiler::Plan& plan) {
  std::vector<const compiler::IkeEntry*> wanting;
  for (const auto& rule : plan.ikes)
    if (rule.sec_interface && *rule.sec_interface != 0) wanting.push_back(&rule);
  if (wanting.empty()) return true;
  std::vector<backends::xfrm::XfrmInterface> present;
  try {
    present = backends::xfrm::xfrm_interfaces();
  } catch (const backends::KernelError& error) {
    diag_.note(std::string("cannot list the XFRM interfaces: ") + error.what());
    return false;
  }
  bool ok = true;
  for (const compiler::IkeEntry* rule : wanting) {
    const unsigned id = *rule->sec_interface;
    const std::string name = "sec" + std::to_string(id);
    bool found = false;
    const backends::xfrm::XfrmInterface* same_name = nullptr;
    for (const auto& i : present) {
      if (i.if_id == id) found = true;
      if (i.name == name) same_name = &i;
    }
    if (found) continue;
    // The command that makes it: on the interface toward the peer.
    std::string dev = "<uplink>";
    if (rule->peer)
      if (auto source = backends::source_address_for(rule->peer->address))
        if (auto name_of = backends::interface_with_address(*source)) dev = *name_of;
    const std::string create = "ip link add " + name + " type xfrm dev " + dev + " if_id " +
                               std::to_string(id) + " && ip link set " + name + " up";
    // The command is part of the message: it is what the user needs.
    if (same_name != nullptr)
      diag_.error_at(rule->origin,
                     name + " is an XFRM interface with if_id " + std::to_string(same_name->if_id) +
                         ", but `interface " + name + "` means if_id " + std::to_string(id) +
                         "; recreate it with: ip link del " + name + " && " + create);
    else
      diag_.error_at(rule->origin, "no XFRM interface has if_id " + std::to_string(id) +
                                       " for `interface " + name + "`; create it with: " + create);
    ok = false;
  }
  if (!ok) diag_.note("nothing was loaded");
  return ok;
}

bool Session::apply(const compiler::Plan& plan, Action action, const std::string& source) {
  const char* nothing = action == Action::Delete ? "nothing was removed" : "nothing was loaded";
  if (action == Action::Add && !check_sec_interfaces(plan)) return false;
  std::unique_ptr<backends::IkeBackend> ike;
  bool ok;
  std::unique_ptr<Prepared> prepared = std::move(prepared_);
  if (prepared && (prepared->source != source || action != Action::Add)) prepared.reset();
  if (prepared) prepared->reader.join();
  {
    std::optional<LoadLock> lock;
    std::unique_ptr<OwnershipStore> own_store;
    backends::OwnedEntries own_previous, own_others;
    if (prepared) {
      lock = std::move(prepared->lock);
    } else {
      lock = LoadLock::acquire(diag_, options_.lock_patience);
      if (!lock) return false;
      // Read under the lock: another run may have just rewritten them.
      own_store = std::make_unique<OwnershipStore>(diag_);
      own_previous = own_store->load(source);
      own_others = own_store->others(source);
    }
    OwnershipStore& store = prepared ? *prepared->store : *own_store;
    const backends::OwnedEntries& previous = prepared ? prepared->previous : own_previous;
    const backends::OwnedEntries& others = prepared ? prepared->others : own_others;
    if (plan.empty() && previous.empty()) return true;
    if (!plan.ikes.empty() || !previous.entries.empty()) {
      ike = ike_daemon();
      if (!ike && !plan.ikes.empty()) {
        diag_.note("the file has ike rules but no IKE daemon was found: " +
                   ike_daemons_looked_for() + "; " + nothing);
        return false;
      }
    }
    if (ike && action == Action::Add && options_.wait) ike->listen_before_apply();
    ok = apply_locked(plan, action, source, ike.get(), store, previous, others);
  }
  // Waiting holds no lock and changes nothing: a signal simply ends it.
  if (ok && ike && action == Action::Add && options_.wait)
    ok = ike->wait_for_tunnels(*options_.wait);
  return ok;
}

bool Session::apply_locked(const compiler::Plan& plan, Action action, const std::string& source,
                           backends::IkeBackend* ike, OwnershipStore& store,
                           const backends::OwnedEntries& previous,
                           const backends::OwnedEntries& others) {
  backends::OwnedEntries now;
  bool kernel_as_before = false;
  backends::SyncScope scope{&previous, &others, &now};
  scope.kernel_as_before = &kernel_as_before;

  // From here on a signal waits until the kernel and the daemon are either
  // fully changed or back as they were.
  SignalHold hold;
  auto stop = [&hold] { return hold.pending().has_value(); };
  const bool kernel_part = !plan.flows.empty() || !plan.sas.empty() || !plan.bundles.empty() ||
                           !previous.kernel.empty();
  if (kernel_part) {
    kernel().set_stop_check(stop);
    const bool applied = kernel().apply(plan, action, scope);
    kernel().set_stop_check({});
    if (!applied) return interrupted(hold, false);
  }
  if (ike) {
    ike->set_stop_check(stop);
    const bool applied = !stop() && ike->apply(plan, action, scope);
    if (!applied) {
      if (kernel_part) kernel().undo_last();
      return interrupted(hold, false);
    }
  } else if (!previous.entries.empty()) {
    // The daemon an earlier load used is not running: what it held is
    // gone with it, or will be removed by the next load that finds it.
    diag_.warning("no IKE daemon answers (" + ike_daemons_looked_for() +
                  "); what an earlier load of this file gave it was not checked");
    if (action == Action::Add)
      for (const auto& e : previous.entries) now.add(e);
  }
  if (action == Action::Delete) store.remove(source);
  // An unchanged reload owns what it owned: the record stays as it is,
  // without even being written out again to be compared.
  else if (kernel_as_before ? now.entries != previous.entries : now != previous) {
    if (kernel_as_before) now.kernel = previous.kernel;
    store.save(source, now);
  }
  return interrupted(hold, true);
}

bool Session::may_stream(const std::string& path, const std::string& source) {
  // Standard input cannot be read twice; a small file gains nothing, and
  // kStreamingFlows rules of `flow from A to B` take at least this much.
  constexpr off_t kShortestFlowRule = 16;
  struct stat st {};
  if (path == "-" || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if (st.st_size < static_cast<off_t>(kStreamingFlows) * kShortestFlowRule) return false;
  return !OwnershipStore(diag_).has_record(source);
}

namespace {

// Hands the kernel backend each flow the compiler adds, once the first
// pass has said the file may stream: until then the flows only gather in
// the plan, and the first to arrive after the answer brings them all. The
// backend is opened only then, so that a kernel that cannot be reached is
// reported by apply(), after the file's own errors.
class GatedStreamer final : public compiler::RuleListener {
 public:
  enum class State { Waiting, Streaming, Declined, KernelFailed };

  GatedStreamer(std::function<backends::KernelBackend*()> open_kernel, FirstPass& first_pass,
                const compiler::Plan& plan, const backends::SyncScope& scope,
                std::function<bool()> stop)
      : open_kernel_(std::move(open_kernel)),
        first_pass_(first_pass),
        plan_(plan),
        scope_(scope),
        stop_(std::move(stop)) {}
  ~GatedStreamer() override {
    if (kernel_ != nullptr) kernel_->set_stop_check({});
  }
  GatedStreamer(const GatedStreamer&) = delete;
  GatedStreamer& operator=(const GatedStreamer&) = delete;

  void macro_defined(const std::string&, const std::string&) override {}
  void rule_added(const compiler::Plan&, compiler::RuleRef rule) override {
    if (state_ == State::Waiting) {
      if (!first_pass_.done()) return;
      open();
    }
    if (state_ == State::Streaming && rule.kind == compiler::RuleKind::Flow)
      catch_up(static_cast<std::size_t>(rule.index) + 1);
  }

  // After the compile: waits for the first pass if it is still reading,
  // and hands over what has not gone yet.
  State settle() {
    if (state_ == State::Waiting) open();
    if (state_ == State::Streaming) catch_up(plan_.flows.size());
    return state_;
  }
  // The backend, once streaming.
  backends::KernelBackend& kernel() { return *kernel_; }

 private:
  void open() {
    const compiler::SyntaxShape& shape = first_pass_.shape();
    state_ = State::Declined;
    if (!shape.clean || shape.ike_rules != 0 || shape.sa_rules != 0 ||
        shape.flow_rules < Session::kStreamingFlows)
      return;
    kernel_ = open_kernel_();
    if (kernel_ == nullptr) return;
    kernel_->set_stop_check(stop_);
    state_ = kernel_->begin_streaming(plan_, scope_, shape.flow_rules) ? State::Streaming
                                                                       : State::KernelFailed;
  }
  void catch_up(std::size_t end) {
    for (; next_ < end; ++next_) kernel_->stream_flow(static_cast<std::uint32_t>(next_));
  }

  std::function<backends::KernelBackend*()> open_kernel_;
  FirstPass& first_pass_;
  const compiler::Plan& plan_;
  const backends::SyncScope& scope_;
  std::function<bool()> stop_;
  backends::KernelBackend* kernel_ = nullptr;
  State state_ = State::Waiting;
  std::size_t next_ = 0;  // the first flow not handed over yet
};

}  // namespace

Session::Streamed Session::load_while_compiling(const compiler::Plan& plan,
                                                const Compile& compile, const std::string& path,
                                                const std::vector<std::string>& defines,
                                                const std::string& source) {
  auto lock = LoadLock::acquire(diag_, options_.lock_patience);
  if (!lock) return Streamed::LoadFailed;
  OwnershipStore store(diag_);
  const backends::OwnedEntries previous = store.load(source);
  // Streaming pays off when much is new. A reload mostly finds what is
  // there already, and one that had a daemon part needs the daemon, which
  // the ordinary way finds before the kernel is touched.
  if (!previous.empty()) return Streamed::NotStarted;
  const backends::OwnedEntries others = store.others(source);
  backends::OwnedEntries now;
  const backends::SyncScope scope{&previous, &others, &now};

  SignalHold hold;
  FirstPass first_pass(path, defines);
  GatedStreamer streamer(
      [this]() -> backends::KernelBackend* {
        try {
          return &kernel();
        } catch (const backends::KernelError&) {
          return nullptr;  // apply() reports it, after the file's own errors
        }
      },
      first_pass, plan, scope, [&hold] { return hold.pending().has_value(); });
  const bool compiled = compile(&streamer);
  const GatedStreamer::State state = streamer.settle();
  const bool streaming = state == GatedStreamer::State::Streaming;
  if (!compiled) {
    if (streaming) streamer.kernel().abandon_streaming();
    interrupted(hold, false);
    return Streamed::CompileFailed;
  }
  // Errors in the file come before the kernel's, as on the ordinary way.
  if (state == GatedStreamer::State::KernelFailed) {
    interrupted(hold, false);
    return Streamed::LoadFailed;
  }
  if (!streaming) return Streamed::Compiled;
  if (!plan.ikes.empty()) {
    // The file gained ike rules after the first pass: the daemon comes
    // first, so what went out is taken back and the plan loads with apply().
    if (!streamer.kernel().abandon_streaming()) return Streamed::LoadFailed;
    return Streamed::Compiled;
  }
  const bool ok = streamer.kernel().finish_streaming();
  if (ok) store.save(source, now);
  return interrupted(hold, ok) ? Streamed::Loaded : Streamed::LoadFailed;
}

bool Session::interrupted(const SignalHold& hold, bool ok) {
  auto signo = hold.pending();
  if (!signo) return ok;
  if (ok)
    diag_.note(std::string(signal_name(*signo)) +
               " arrived after the change was complete; it stays in place");
  else
    diag_.note(std::string("stopped by ") + signal_name(*signo) +
               "; what this run had changed was taken back");
  return ok;
}

bool Session::flush() {
  auto lock = LoadLock::acquire(diag_, options_.lock_patience);
  if (!lock) return false;
  if (!kernel().flush()) return false;
  // The kernel half of every tunnel is gone: the daemon's half goes too,
  // for what ipsecctl loaded into it, so that the next -f starts them
  // afresh. What other tools gave the daemon stays.
  OwnershipStore store(diag_);
  backends::OwnedEntries daemon_entries;
  const auto sources = store.sources();
  for (const std::string& source : sources)
    for (auto& e : store.load(source).entries) daemon_entries.add(std::move(e));
  bool ok = true;
  if (!daemon_entries.empty()) {
    auto ike = ike_daemon();
    if (!ike) {
      diag_.warning("no IKE daemon answers (" + ike_daemons_looked_for() +
                    "); the tunnels ipsecctl gave it are flushed from the kernel only");
      for (const std::string& source : sources)
        store.save(source, daemon_part(store.load(source)));
      return true;
    }
    ok = ike->remove_owned(daemon_entries);
  }
  for (const std::string& source : sources) store.remove(source);
  return ok;
}

std::optional<backends::KernelSnapshot> Session::kernel_snapshot(bool policies, bool states) {
  return kernel().snapshot(policies, states);
}

std::optional<backends::IkeSnapshot> Session::ike_snapshot() {
  if (options_.ike == "isakmpd") return std::nullopt;
  auto daemon = ike_daemon();
  if (!daemon) return std::nullopt;
  return daemon->ike_sas();
}

bool Session::watch(const std::function<bool(const backends::MonitorEvent&)>& each) {
  return kernel().watch(each);
}

std::string Session::kernel_wire_name() { return kernel().wire_name(); }

}  // namespace ipsecctl::engine
