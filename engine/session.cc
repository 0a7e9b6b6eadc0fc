#include "engine/session.h"

#include "backends/kernel/kernel_channel.h"
#include "engine/load_lock.h"

namespace ipsecctl::engine {

using backends::Action;

Session::Session(SessionOptions options, Diagnostics& diagnostics, compiler::Resolver& resolver)
    : options_(std::move(options)), diag_(diagnostics), resolver_(resolver) {}

Session::~Session() = default;

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

bool Session::apply(const compiler::Plan& plan, Action action) {
  if (plan.empty()) return true;
  const char* nothing = action == Action::Delete ? "nothing was removed" : "nothing was loaded";
  std::unique_ptr<backends::IkeBackend> ike;
  if (!plan.ikes.empty()) {
    ike = ike_daemon();
    if (!ike) {
      diag_.note("the file has ike rules but no IKE daemon was found: " +
                 ike_daemons_looked_for() + "; " + nothing);
      return false;
    }
  }
  auto lock = LoadLock::acquire(diag_, options_.lock_patience);
  if (!lock) return false;
  // From here on a signal waits until the kernel and the daemon are either
  // fully changed or back as they were.
  SignalHold hold;
  auto stop = [&hold] { return hold.pending().has_value(); };
  const bool kernel_part = !plan.flows.empty() || !plan.sas.empty() || !plan.bundles.empty();
  if (kernel_part) {
    kernel().set_stop_check(stop);
    const bool applied = kernel().apply(plan, action);
    kernel().set_stop_check({});
    if (!applied) return interrupted(hold, false);
  }
  if (ike) {
    ike->set_stop_check(stop);
    const bool applied = !stop() && ike->apply(plan, action);
    if (!applied) {
      if (kernel_part) kernel().undo_last();
      return interrupted(hold, false);
    }
  }
  return interrupted(hold, true);
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
  return kernel().flush();
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
