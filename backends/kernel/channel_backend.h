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
// Streaming (a large file of flows only, see engine/session): the kernel
// is dumped first, and each flow is lowered and compared as the compiler
// adds it; new policies between two single hosts go out at once (their
// order does not matter to the kernel), everything else waits for the
// end, where it goes out in the order above. A failure at any point takes
// back what went out.
//
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
struct SentChanges;      // what one send of it came to

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
  void prefetch(const SyncScope& scope) override;
  bool begin_streaming(const compiler::Plan& plan, const SyncScope& scope,
                       std::size_t expected_flows) override;
  void stream_flow(std::uint32_t flow_index) override;
  bool finish_streaming() override;
  bool abandon_streaming() override;

 private:
  // Reports what the kernel refused; when anything failed (or a stop
  // came), undoes what took effect. True when everything took.
  bool settle(const LoadTransaction& t, const SentChanges& sent, bool adding);
  // Undoes every change of `t` that took effect.
  bool take_back(const LoadTransaction& t, const SendOutcome& outcome);

  std::unique_ptr<KernelChannel> channel_;
  Diagnostics& diag_;
  compiler::Resolver& resolver_;
  std::unique_ptr<LoadTransaction> last_;    // the last successful apply()
  std::unique_ptr<LoadTransaction> stream_;  // between begin_ and finish_streaming()
  struct Prefetched;                         // what prefetch() read
  std::unique_ptr<Prefetched> prefetched_;
};

}  // namespace ipsecctl::backends
