// KernelChannel over NETLINK_XFRM: Linux's native IPsec configuration
// interface. Changes are packed into 64 KiB writes without per-message
// acknowledgements (the kernel answers only failures, each carrying the
// sequence number, which is the change's tag), then confirmed by one
// request whose answer proves every earlier message was processed.
//
// Full batches go out from a thread of their own: the kernel inserts one
// batch (inside the write) while the next is being lowered and encoded.
// Only that thread touches the socket until send() has joined it.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include "backends/kernel/kernel_channel.h"
#include "backends/xfrm/netlink_socket.h"

namespace ipsecctl::backends::xfrm {

class XfrmChannel final : public KernelChannel {
 public:
  XfrmChannel();  // throws KernelError
  ~XfrmChannel() override;
  std::string name() const override { return "XFRM"; }
  void dump_policies(const std::function<void(KernelPolicy&&)>& each) override;
  void dump_states(const std::function<void(KernelState&&)>& each) override;
  void queue_policy(ChangeKind kind, const KernelPolicy& policy, std::uint32_t tag) override;
  void queue_state(ChangeKind kind, const KernelState& state, std::uint32_t tag) override;
  SendOutcome send() override;
  void flush_all() override;
  bool can_get_policy() const override { return true; }
  std::optional<KernelPolicy> get_policy(const KernelPolicy& like) override;
  void monitor(const std::function<bool(const MonitorEvent&)>& each) override;

 private:
  template <typename F>
  void dump(std::uint16_t type, F&& each);
  void transmit();  // hands the batch to the sender
  void write_batch(const std::vector<std::uint8_t>& batch);
  void sender_loop();
  void join_sender();  // waits until every batch is written; rethrows its error
  void collect_answers(bool until_barrier);
  void request_with_ack(std::uint16_t type, const void* payload, std::size_t size,
                        const char* what);

  NetlinkSocket socket_;
  std::vector<std::uint8_t> batch_;
  // Batches waiting for the sender, and emptied ones to fill again.
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::vector<std::uint8_t>> full_;
  std::vector<std::vector<std::uint8_t>> spare_;
  bool closing_ = false;
  std::exception_ptr sender_error_;
  std::thread sender_;
  std::vector<std::uint8_t> receive_buffer_;
  SendOutcome pending_;
};

}  // namespace ipsecctl::backends::xfrm
