#include "backends/xfrm/xfrm_channel.h"

#include <linux/netlink.h>
#include <linux/ipsec.h>
#include <linux/xfrm.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "backends/xfrm/netlink_layout.h"
#include "backends/xfrm/xfrm_codec.h"

namespace ipsecctl::backends::xfrm {

namespace {

// Sequence numbers above every change tag.
constexpr std::uint32_t kBarrierSeq = 0xffffffffU;
constexpr std::uint32_t kRequestSeq = 0xfffffffeU;
constexpr std::size_t kBatchBytes = 64 * 1024;

std::string describe_errno(int error, const char* what) {
  std::string text = std::string(what) + ": " + std::strerror(error);
  if (error == EPERM || error == EACCES)
    text += " (changing or reading IPsec state needs root or CAP_NET_ADMIN)";
  return text;
}

// Calls `each(header)` for every netlink message in a datagram.
template <typename F>
void for_each_message(const std::uint8_t* data, std::size_t size, F&& each) {
  std::size_t offset = 0;
  while (offset + kMessageHeader <= size) {
    nlmsghdr header;
    std::memcpy(&header, data + offset, sizeof header);
    if (header.nlmsg_len < kMessageHeader || offset + header.nlmsg_len > size) break;
    // Messages start 4-byte aligned inside the (aligned) buffer.
    each(*reinterpret_cast<const nlmsghdr*>(static_cast<const void*>(data + offset)));
    offset += align4(header.nlmsg_len);
  }
}

struct ErrorAnswer {
  int error = 0;
  std::uint32_t seq = 0;
  std::string message;
};

ErrorAnswer read_error(const nlmsghdr& header) {
  ErrorAnswer answer;
  answer.seq = header.nlmsg_seq;
  nlmsgerr err;
  if (header.nlmsg_len < kMessageHeader + sizeof err) return answer;
  const auto* base = reinterpret_cast<const std::uint8_t*>(&header);
  std::memcpy(&err, base + kMessageHeader, sizeof err);
  answer.error = -err.error;
  if ((header.nlmsg_flags & NLM_F_ACK_TLVS) == 0) return answer;
  // With NETLINK_CAP_ACK the echoed request is just its header.
  std::size_t offset = kMessageHeader + sizeof err;
  if ((header.nlmsg_flags & NLM_F_CAPPED) == 0) offset += err.msg.nlmsg_len - kMessageHeader;
  offset = align4(offset);
  while (offset + kAttributeHeader <= header.nlmsg_len) {
    nlattr attr;
    std::memcpy(&attr, base + offset, sizeof attr);
    if (attr.nla_len < kAttributeHeader || offset + attr.nla_len > header.nlmsg_len) break;
    if (attr.nla_type == NLMSGERR_ATTR_MSG) {
      const char* text = reinterpret_cast<const char*>(base + offset + kAttributeHeader);
      answer.message.assign(text, strnlen(text, attr.nla_len - kAttributeHeader));
    }
    offset += align4(attr.nla_len);
  }
  return answer;
}

}  // namespace

// How many full batches may wait for the kernel: 8 MiB, about 33,000
// policies, some 50 ms of the kernel's work. The kernel inserts a policy
// in about 1.4 us, the compile makes one in well under 1 us: with that
// much room to run ahead, a streamed load of 10^5 flows has compiled the
// whole file, compared it and made its record and report while the
// kernel is still inserting, and then waits for nothing but the kernel.
constexpr std::size_t kQueuedBatches = (8u << 20) / kBatchBytes;

XfrmChannel::XfrmChannel()
    : socket_(NetlinkSocket::open(NETLINK_XFRM)), receive_buffer_(256 * 1024) {
  batch_.reserve(kBatchBytes + 4096);
}

XfrmChannel::~XfrmChannel() {
  try {
    join_sender();
  } catch (...) {  // a destructor reports nothing; send() would have
  }
}

template <typename F>
void XfrmChannel::dump(std::uint16_t type, F&& each) {
  std::vector<std::uint8_t> request;
  encode_request(request, type, NLM_F_DUMP, kRequestSeq);
  socket_.send(request);
  for (;;) {
    ssize_t n = socket_.receive(receive_buffer_, true);
    if (n < 0) throw KernelError("XFRM dump lost messages (ENOBUFS); try again");
    bool done = false;
    for_each_message(receive_buffer_.data(), static_cast<std::size_t>(n),
                     [&](const nlmsghdr& header) {
                       if (header.nlmsg_seq != kRequestSeq) return;
                       if (header.nlmsg_type == NLMSG_DONE) {
                         done = true;
                       } else if (header.nlmsg_type == NLMSG_ERROR) {
                         ErrorAnswer answer = read_error(header);
                         if (answer.error != 0)
                           throw KernelError(describe_errno(answer.error, "XFRM dump failed"));
                         done = true;
                       } else {
                         each(header);
                       }
                     });
    if (done) return;
  }
}

void XfrmChannel::dump_policies(const std::function<void(KernelPolicy&&)>& each) {
  dump(XFRM_MSG_GETPOLICY, [&](const nlmsghdr& header) {
    if (header.nlmsg_type != XFRM_MSG_NEWPOLICY) return;
    if (auto policy = decode_policy(header)) each(std::move(*policy));
  });
}

std::optional<KernelPolicy> XfrmChannel::get_policy(const KernelPolicy& like) {
  std::vector<std::uint8_t> request;
  encode_policy_get(request, like, kRequestSeq);
  socket_.send(request);
  for (;;) {
    ssize_t n = socket_.receive(receive_buffer_, true);
    if (n <= 0) continue;
    std::optional<std::optional<KernelPolicy>> answer;
    for_each_message(receive_buffer_.data(), static_cast<std::size_t>(n),
                     [&](const nlmsghdr& header) {
                       if (header.nlmsg_seq != kRequestSeq) return;
                       if (header.nlmsg_type == XFRM_MSG_NEWPOLICY) {
                         answer = decode_policy(header);
                       } else if (header.nlmsg_type == NLMSG_ERROR) {
                         ErrorAnswer error = read_error(header);
                         if (error.error != 0 && error.error != ENOENT)
                           throw KernelError(describe_errno(error.error, "reading an XFRM policy failed"));
                         answer = std::optional<KernelPolicy>();
                       }
                     });
    if (answer) return *answer;
  }
}

void XfrmChannel::dump_states(const std::function<void(KernelState&&)>& each) {
  dump(XFRM_MSG_GETSA, [&](const nlmsghdr& header) {
    if (header.nlmsg_type != XFRM_MSG_NEWSA) return;
    if (auto state = decode_state(header)) each(std::move(*state));
  });
}

void XfrmChannel::queue_policy(ChangeKind kind, const KernelPolicy& policy, std::uint32_t tag) {
  encode_policy_change(batch_, kind, policy, tag);
  if (batch_.size() >= kBatchBytes) transmit();
}

void XfrmChannel::queue_state(ChangeKind kind, const KernelState& state, std::uint32_t tag) {
  encode_state_change(batch_, kind, state, tag);
  if (batch_.size() >= kBatchBytes) transmit();
}

void XfrmChannel::transmit() {
  if (batch_.empty()) return;
  std::unique_lock lock(mutex_);
  if (!sender_.joinable()) {
    closing_ = false;
    sender_ = std::thread([this] { sender_loop(); });
  }
  changed_.wait(lock, [this] { return full_.size() < kQueuedBatches || sender_error_; });
  full_.push_back(std::move(batch_));
  if (!spare_.empty()) {
    batch_ = std::move(spare_.back());
    spare_.pop_back();
  } else {
    batch_ = {};
    batch_.reserve(kBatchBytes + 4096);
  }
  batch_.clear();
  changed_.notify_all();
}

void XfrmChannel::write_batch(const std::vector<std::uint8_t>& batch) {
  socket_.send(batch);
  // The kernel handled the whole write before sendto() returned; take its
  // answers now so they never pile up beyond the receive buffer.
  collect_answers(false);
}

void XfrmChannel::sender_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return !full_.empty() || closing_; });
    if (full_.empty()) return;  // closing, and everything written
    std::vector<std::uint8_t> batch = std::move(full_.front());
    full_.pop_front();
    lock.unlock();
    try {
      if (!sender_error_) write_batch(batch);
    } catch (...) {
      lock.lock();
      sender_error_ = std::current_exception();
      changed_.notify_all();
      continue;
    }
    batch.clear();
    lock.lock();
    spare_.push_back(std::move(batch));
    changed_.notify_all();
  }
}

void XfrmChannel::join_sender() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    changed_.notify_all();
  }
  if (sender_.joinable()) sender_.join();
  std::exception_ptr error;
  {
    std::lock_guard lock(mutex_);
    error = std::exchange(sender_error_, nullptr);
    full_.clear();
  }
  if (error) std::rethrow_exception(error);
}

void XfrmChannel::collect_answers(bool until_barrier) {
  for (;;) {
    ssize_t n = socket_.receive(receive_buffer_, until_barrier);
    if (n == -ENOBUFS) {
      pending_.answers_lost = true;
      continue;
    }
    if (n <= 0) {
      if (!until_barrier) return;
      continue;
    }
    bool barrier = false;
    for_each_message(receive_buffer_.data(), static_cast<std::size_t>(n),
                     [&](const nlmsghdr& header) {
                       if (header.nlmsg_seq == kBarrierSeq) {
                         barrier = true;
                         return;
                       }
                       if (header.nlmsg_type != NLMSG_ERROR) return;
                       ErrorAnswer answer = read_error(header);
                       if (answer.error == 0) return;
                       pending_.failures.push_back(
                           ChangeFailure{answer.seq, answer.error, std::move(answer.message)});
                     });
    if (barrier && until_barrier) return;
  }
}

SendOutcome XfrmChannel::send() {
  transmit();
  join_sender();
  // Any request that gets an answer works as a barrier: its answer comes
  // after those of everything sent before it.
  std::uint32_t flags = 0;
  std::vector<std::uint8_t> barrier;
  encode_request(barrier, XFRM_MSG_GETSPDINFO, 0, kBarrierSeq, &flags, sizeof flags);
  socket_.send(barrier);
  collect_answers(true);
  SendOutcome outcome = std::move(pending_);
  pending_ = SendOutcome{};
  return outcome;
}

void XfrmChannel::request_with_ack(std::uint16_t type, const void* payload, std::size_t size,
                                   const char* what) {
  std::vector<std::uint8_t> request;
  encode_request(request, type, NLM_F_ACK, kRequestSeq, payload, size);
  socket_.send(request);
  for (;;) {
    ssize_t n = socket_.receive(receive_buffer_, true);
    if (n <= 0) continue;
    bool answered = false;
    for_each_message(receive_buffer_.data(), static_cast<std::size_t>(n),
                     [&](const nlmsghdr& header) {
                       if (header.nlmsg_seq != kRequestSeq || header.nlmsg_type != NLMSG_ERROR)
                         return;
                       ErrorAnswer answer = read_error(header);
                       if (answer.error != 0) throw KernelError(describe_errno(answer.error, what));
                       answered = true;
                     });
    if (answered) return;
  }
}

void XfrmChannel::flush_all() {
  request_with_ack(XFRM_MSG_FLUSHPOLICY, nullptr, 0, "flushing the XFRM SPD failed");
  xfrm_usersa_flush flush{};
  flush.proto = IPSEC_PROTO_ANY;
  request_with_ack(XFRM_MSG_FLUSHSA, &flush, sizeof flush, "flushing the XFRM SAD failed");
}

void XfrmChannel::monitor(const std::function<bool(const MonitorEvent&)>& each) {
  auto group = [](unsigned g) { return 1U << (g - 1); };
  NetlinkSocket listener = NetlinkSocket::open(
      NETLINK_XFRM, group(XFRMNLGRP_ACQUIRE) | group(XFRMNLGRP_EXPIRE) | group(XFRMNLGRP_SA) |
                        group(XFRMNLGRP_POLICY) | group(XFRMNLGRP_REPORT) |
                        group(XFRMNLGRP_MAPPING));
  std::vector<std::uint8_t> buffer(256 * 1024);
  for (;;) {
    ssize_t n = listener.receive(buffer, true);
    if (n == -EINTR) return;
    if (n == -ENOBUFS) {
      MonitorEvent lost;
      lost.name = "lost";
      lost.detail = "events were dropped: the kernel sent them faster than they were read";
      if (!each(lost)) return;
      continue;
    }
    bool go_on = true;
    for_each_message(buffer.data(), static_cast<std::size_t>(n), [&](const nlmsghdr& header) {
      if (go_on) go_on = each(decode_event(header));
    });
    if (!go_on) return;
  }
}

}  // namespace ipsecctl::backends::xfrm
