// A kernel backend driven through a KernelChannel: loads (ChannelLoad),
// flushing, showing and monitoring. The channel decides the wire format
// (XFRM or PF_KEY); nothing here does.
#pragma once

#include <memory>

#include "backends/backend.h"
#include "backends/kernel/kernel_channel.h"
#include "common/diagnostics.h"
#include "compiler/resolver.h"

namespace ipsecctl::backends {

class ChannelBackend final : public KernelBackend {
 public:
  ChannelBackend(std::unique_ptr<KernelChannel> channel, Diagnostics& diagnostics,
                 compiler::Resolver& resolver)
      : channel_(std::move(channel)), diag_(diagnostics), resolver_(resolver) {}

  std::string name() const override { return channel_->name(); }
  std::unique_ptr<KernelLoad> begin_load(const compiler::Plan& plan, Action action,
                                         const SyncScope& scope,
                                         const LoadSettings& settings) override;
  bool flush() override;
  std::optional<KernelSnapshot> snapshot(bool policies, bool states) override;
  bool watch(const std::function<bool(const MonitorEvent&)>& each) override;

 private:
  std::unique_ptr<KernelChannel> channel_;
  Diagnostics& diag_;
  compiler::Resolver& resolver_;
};

}  // namespace ipsecctl::backends
