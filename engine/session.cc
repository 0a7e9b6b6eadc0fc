#include "engine/session.h"

#include "backends/kernel/kernel_channel.h"

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
  const bool kernel_part = !plan.flows.empty() || !plan.sas.empty() || !plan.bundles.empty();
  if (kernel_part && !kernel().apply(plan, action)) return false;
  if (ike && !ike->apply(plan, action)) {
    if (kernel_part) kernel().undo_last();
    return false;
  }
  return true;
}

bool Session::flush() { return kernel().flush(); }

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
