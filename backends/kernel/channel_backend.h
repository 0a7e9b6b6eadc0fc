// A kernel backend driven through a KernelChannel: loading with a diff
// against the kernel and rollback, flushing, showing and monitoring. The
// channel decides the wire format (XFRM or PF_KEY); nothing here does.
//
// Loading (-f):
//   1. every rule is checked for what the kernel can express; one refusal
//      stops the load before anything is sent;
//   2. the kernel's SPD and SAD are dumped and compared with the plan by
//      identity (selector+direction for policies, destination+SPI+protocol
//      for SAs): equal entries are left alone, so reloading an unchanged
//      file sends nothing; changed ones are updated, missing ones added;
//   3. SAs go first, then policies from the widest selectors to the
//      narrowest (inserting a covering prefix after its sub-prefixes is
//      what makes the kernel's inexact-policy lists slow);
//   4. when the kernel refuses anything, every change of this run is
//      undone in reverse order, so the kernel ends as it began.
// Deleting (-d) removes the entries the file would add, with the same
// all-or-nothing rule.
//
// Reloading is a sync (SyncScope): entries an earlier load of the same
// file added that the file no longer has are removed in the same step,
// unless another file claims them or somebody changed them since.
#pragma once

#include <memory>

#include "backends/backend.h"
#include "backends/kernel/kernel_channel.h"
#include "compiler/resolver.h"
#include "common/diagnostics.h"

namespace ipsecctl::backends {

struct LoadTransaction;  // what one load decided (channel_backend.cc)

class ChannelBackend final : public KernelBackend {
 public:
  ChannelBackend(std::unique_ptr<KernelChannel> channel, Diagnostics& diagnostics,
                 compiler::Resolver& resolver);
  ~ChannelBackend() override;

  std::string name() const override { return channel_->name(); }
  bool apply(const compiler::Plan& plan, Action action, const SyncScope& scope) override;
  bool flush() override;
  std::optional<KernelSnapshot> snapshot(bool policies, bool states) override;
  bool watch(const std::function<bool(const MonitorEvent&)>& each) override;
  std::string wire_name() const override { return channel_->name(); }
  bool undo_last() override;

 private:

  std::unique_ptr<KernelChannel> channel_;
  Diagnostics& diag_;
  compiler::Resolver& resolver_;
  std::unique_ptr<LoadTransaction> last_;  // the last successful apply()
};

}  // namespace ipsecctl::backends
