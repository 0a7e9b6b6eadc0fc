#include "backends/kernel/channel_backend.h"

#include "backends/kernel/kernel_load.h"

namespace ipsecctl::backends {

std::unique_ptr<KernelLoad> ChannelBackend::begin_load(const compiler::Plan& plan, Action action,
                                                       const SyncScope& scope,
                                                       const LoadSettings& settings) {
  return std::make_unique<ChannelLoad>(*channel_, diag_, resolver_, plan, action, scope, settings);
}

bool ChannelBackend::flush() {
  try {
    channel_->flush_all();
    return true;
  } catch (const KernelError& error) {
    diag_.failure(error.what());
    return false;
  }
}

std::optional<KernelSnapshot> ChannelBackend::snapshot(bool policies, bool states) {
  try {
    KernelSnapshot snap;
    if (policies)
      channel_->dump_policies([&](KernelPolicy&& p) { snap.policies.push_back(std::move(p)); });
    if (states) channel_->dump_states([&](KernelState&& s) { snap.states.push_back(std::move(s)); });
    return snap;
  } catch (const KernelError& error) {
    diag_.failure(error.what());
    return std::nullopt;
  }
}

bool ChannelBackend::watch(const std::function<bool(const MonitorEvent&)>& each) {
  try {
    channel_->monitor([&](const MonitorEvent& event) {
      if (event.when.time_since_epoch().count() != 0) return each(event);
      MonitorEvent stamped = event;
      stamped.when = std::chrono::system_clock::now();
      return each(stamped);
    });
    return true;
  } catch (const KernelError& error) {
    diag_.failure(error.what());
    return false;
  }
}

}  // namespace ipsecctl::backends
