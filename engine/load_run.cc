#include "engine/load_run.h"

#include <sys/stat.h>

#include <algorithm>

#include "compiler/syntax_check.h"
#include "engine/flow_feeder.h"

namespace ipsecctl::engine {

using backends::Action;

namespace {

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return path != "-" && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

LoadRun::LoadRun(const LoadContext& context, const LoadRequest& request, LoadResult& result)
    : context_(context),
      request_(request),
      result_(result),
      diag_(context.diagnostics),
      adding_(request.action == Action::Add),
      dry_run_(request.mode == LoadMode::Diff),
      regular_file_(is_regular_file(request.compile.path)),
      source_(OwnershipStore::source_of(request.record_as.empty() ? request.compile.path
                                                                  : request.record_as)),
      scope_{&previous_, &others_, &now_} {
  scope_.kernel_as_before = &kernel_as_before_;
}

LoadRun::~LoadRun() {
  if (reader_.joinable()) reader_.join();
}

bool LoadRun::go() {
  if (regular_file_) {
    if (!lock_and_read_records()) return false;
    if (may_stream()) compile_streaming();
    else compile_reading_kernel();
  } else {
    compiler::compile_config(request_.compile, context_.resolver, diag_, result_.compiled);
  }
  if (reader_.joinable()) reader_.join();
  if (!result_.compiled.ok()) return compile_failed();
  if (!regular_file_ && !lock_and_read_records()) return false;
  return apply();
}

// Read under the lock: another run may have just rewritten them.
bool LoadRun::lock_and_read_records() {
  lock_ = LoadLock::acquire(diag_, context_.options.lock_patience);
  if (!lock_) return false;
  store_ = std::make_unique<OwnershipStore>(diag_);
  previous_ = store_->load(source_);
  others_ = store_->others(source_);
  return true;
}

// A first load (a reload mostly finds what is there already) of a file
// large enough to hold kStreamingFlows flow rules of at least
// `flow from A to B`. Reads nothing of the file.
bool LoadRun::may_stream() const {
  constexpr off_t kShortestFlowRule = 16;
  struct stat st {};
  return adding_ && !dry_run_ && previous_.empty() &&
         request_.compile.language == compiler::Language::IpsecConf &&
         ::stat(request_.compile.path.c_str(), &st) == 0 &&
         st.st_size >= static_cast<off_t>(kStreamingFlows) * kShortestFlowRule;
}

backends::LoadSettings LoadRun::settings(std::size_t expected_flows) {
  backends::LoadSettings s;
  s.dry_run = dry_run_;
  s.list_changes = request_.list_changes;
  s.expected_flows = expected_flows;
  s.stop = [this] { return hold_ && hold_->pending().has_value(); };
  return s;
}

// The first pass reads the whole file first, in pieces on every core (the
// compile would only slow it down); nothing goes to the kernel before it
// has found the file clean and of flows only. Then the kernel load begins
// and takes each flow as the compile adds it, so that the kernel inserts
// while the compiler reads.
void LoadRun::compile_streaming() {
  // Flows may go out during the compile: a signal waits from here on.
  hold_.emplace();
  const unsigned cores = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  const compiler::SyntaxShape shape =
      compiler::check_syntax(request_.compile.path, request_.compile.defines, true, cores);
  std::optional<FlowFeeder> feeder;
  if (shape.clean && shape.ike_rules == 0 && shape.sa_rules == 0 &&
      shape.flow_rules >= kStreamingFlows) {
    // A kernel that cannot be reached is reported after the file's own
    // errors, by apply_kernel().
    if (backends::KernelBackend* kernel = context_.kernel(false)) {
      kernel_load_ = kernel->begin_load(result_.compiled.plan, Action::Add, scope_,
                                        settings(shape.flow_rules));
      kernel_load_->learn_kernel();
      kernel_load_->send_early();
      feeder.emplace(*kernel_load_);
    }
  }
  compiler::ListenerPair both(request_.compile.listener, feeder ? &*feeder : nullptr);
  compiler::CompileRequest streamed = request_.compile;
  streamed.listener = &both;
  compiler::compile_config(streamed, context_.resolver, diag_, result_.compiled);
}

// The kernel is read in a thread of its own while the file compiles; the
// flows are fed to the load when it finishes.
void LoadRun::compile_reading_kernel() {
  if (adding_)
    if (backends::KernelBackend* kernel = context_.kernel(false)) {
      kernel_load_ = kernel->begin_load(result_.compiled.plan, Action::Add, scope_, settings());
      reader_ = std::thread([load = kernel_load_.get()] { load->learn_kernel(); });
    }
  compiler::compile_config(request_.compile, context_.resolver, diag_, result_.compiled);
}

bool LoadRun::compile_failed() {
  if (kernel_load_) kernel_load_->undo();  // what went out while the file was read
  if (!result_.compiled.fatal)  // OpenBSD exits there and then
    diag_.failure(request_.compile.language == compiler::Language::Iked
                      ? "errors in the iked.conf: policies not loaded"
                      : "Syntax error in config file: ipsec rules not loaded");
  return interrupted(false);
}

bool LoadRun::apply() {
  const compiler::Plan& plan = result_.compiled.plan;
  if (plan.empty() && previous_.empty()) return true;
  std::unique_ptr<backends::IkeBackend> ike;
  if (plan.has_ike() || !previous_.entries.empty()) {
    ike = context_.ike_daemon();
    // A daemon that is still starting gets a moment, when asked for.
    const auto until = std::chrono::steady_clock::now() + context_.options.daemon_patience;
    while (!ike && plan.has_ike() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      ike = context_.ike_daemon();
    }
    if (!ike && plan.has_ike() && adding_) {
      diag_.failure("the file has ike rules but no IKE daemon was found: " +
                    context_.ike_daemons_looked_for() + "; nothing was loaded");
      if (kernel_load_) kernel_load_->undo();
      return interrupted(false);
    }
  }
  const auto& wait = context_.options.wait;
  if (ike && adding_ && !ike->preflight(plan)) {
    if (kernel_load_) kernel_load_->undo();
    return interrupted(false);
  }
  if (ike && adding_ && wait && !dry_run_) ike->listen_before_apply();
  // From here on a signal waits until the kernel and the daemon are either
  // fully changed or back as they were.
  if (!hold_ && !dry_run_) hold_.emplace();
  if (!apply_kernel()) return interrupted(false);
  if (ike && !apply_daemon(*ike)) {
    if (kernel_load_ && !dry_run_) kernel_load_->undo();
    return interrupted(false);
  }
  if (!ike && (!previous_.entries.empty() || plan.has_ike())) {
    // The daemon an earlier load used is not running: what it held is
    // gone with it (a daemon starting again holds nothing), or will be
    // removed by the next load that finds it.
    diag_.warning("no IKE daemon answers (" + context_.ike_daemons_looked_for() +
                  "); what an earlier load of this file gave it was not checked");
    if (adding_)
      for (const auto& e : previous_.entries) now_.add(e);
  }
  if (!dry_run_) save_record();
  if (!dry_run_ && adding_) store_->mark_loaded(source_);
  lock_.reset();
  bool ok = interrupted(true);
  hold_.reset();
  // Waiting holds no lock and changes nothing: a signal simply ends it.
  if (ok && ike && adding_ && wait && !dry_run_) ok = ike->wait_for_tunnels(*wait);
  return ok;
}

bool LoadRun::apply_kernel() {
  const compiler::Plan& plan = result_.compiled.plan;
  const bool kernel_part = !plan.flows.empty() || !plan.sas.empty() || !plan.bundles.empty() ||
                           !previous_.kernel.empty();
  if (!kernel_part) {
    kernel_load_.reset();
    return true;
  }
  if (!kernel_load_) {
    backends::KernelBackend* kernel = context_.kernel(true);
    if (kernel == nullptr) return false;
    kernel_load_ = kernel->begin_load(plan, request_.action, scope_, settings());
  }
  bool ok = kernel_load_->apply();
  // What the file will own in the kernel is known now: its record is
  // written while the kernel is still inserting (a large first load
  // waits for nothing else), and put in place only once all succeeded.
  if (ok && adding_ && !dry_run_ && !kernel_as_before_ && !now_.kernel.empty())
    record_writer_ = store_->begin_save(source_, now_.kernel);
  if (ok) ok = kernel_load_->confirm();
  result_.changes.push_back(kernel_load_->changes());
  return ok;
}

bool LoadRun::apply_daemon(backends::IkeBackend& ike) {
  backends::BackendChanges changes;
  const bool ok = !(hold_ && hold_->pending()) &&
                  ike.apply(result_.compiled.plan, request_.action, scope_, settings(), changes);
  result_.changes.push_back(std::move(changes));
  return ok;
}

// An unchanged reload owns what it owned: the record stays as it is,
// without even being written out again to be compared.
void LoadRun::save_record() {
  if (!adding_) {
    store_->remove(source_);
    return;
  }
  std::unique_ptr<RecordWriter> begun = std::move(record_writer_);
  if (kernel_as_before_ ? now_.entries == previous_.entries : now_ == previous_) return;
  if (begun) {
    store_->finish_save(*begun, now_.entries);
    return;
  }
  if (kernel_as_before_) now_.kernel = previous_.kernel;
  store_->save(source_, now_);
}

// Reports a signal that arrived during the run; returns `ok`.
bool LoadRun::interrupted(bool ok) {
  if (!hold_) return ok;
  auto signo = hold_->pending();
  if (!signo) return ok;
  if (ok)
    diag_.note(std::string(signal_name(*signo)) +
               " arrived after the change was complete; it stays in place");
  else
    diag_.note(std::string("stopped by ") + signal_name(*signo) +
               "; what this run had changed was taken back");
  return ok;
}

}  // namespace ipsecctl::engine
