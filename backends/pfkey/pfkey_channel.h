// KernelChannel over a PF_KEY v2 socket (RFC 2367, with the KAME/Linux
// SPD extensions). PF_KEY answers every message on its own, in order:
// changes go out a window at a time and their answers are read as the
// window moves; the sequence number is the change's tag.
#pragma once

#include <deque>

#include "backends/kernel/kernel_channel.h"
#include "common/unique_fd.h"

namespace ipsecctl::backends::pfkey {

class PfkeyChannel final : public KernelChannel {
 public:
  PfkeyChannel();  // throws KernelError
  ~PfkeyChannel() override;
  PfkeyChannel(const PfkeyChannel&) = delete;
  PfkeyChannel& operator=(const PfkeyChannel&) = delete;

  std::string name() const override { return "PF_KEY"; }
  void dump_policies(const std::function<void(KernelPolicy&&)>& each) override;
  void dump_states(const std::function<void(KernelState&&)>& each) override;
  void queue_policy(ChangeKind kind, const KernelPolicy& policy, std::uint32_t tag) override;
  void queue_state(ChangeKind kind, const KernelState& state, std::uint32_t tag) override;
  SendOutcome send() override;
  void flush_all() override;
  void monitor(const std::function<bool(const MonitorEvent&)>& each) override;
  std::optional<std::string> check_state(const KernelState& state) const override;
  void normalize(KernelState& state) const override;
  void normalize(KernelPolicy& policy) const override;

 private:
  // Sends one message and returns the errno of the kernel's answer to it.
  int exchange(const std::vector<std::uint8_t>& message, std::uint32_t seq);
  // Writes a change without waiting for its answer (a window at a time).
  void pipeline(const std::vector<std::uint8_t>& message, std::uint32_t tag);
  // Reads the answer to one change in flight.
  void take_answer();
  template <typename F>
  void dump(std::uint8_t type, F&& each);

  UniqueFd fd_;
  std::uint32_t pid_;
  std::uint32_t next_seq_ = 0x80000000U;  // above every change tag
  std::vector<std::uint8_t> buffer_;
  SendOutcome pending_;
  std::deque<std::uint32_t> in_flight_;  // tags of changes whose answer is due
};

}  // namespace ipsecctl::backends::pfkey
