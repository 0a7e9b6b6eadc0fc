// The kernel's floor for a load: the very policies `ipsecctl -f FILE`
// would send, built into 64 KiB netlink batches before the clock starts,
// then written as fast as the kernel takes them, without acknowledgements,
// and confirmed by one request whose answer comes after all of them. What
// this takes is what the kernel itself needs; ipsecctl's time over it is
// parsing, compiling, diffing and encoding.
//
// usage: xfrm_floor FILE   (as root, in a namespace with an empty SPD)
// prints: policies N sent_in S errors E
#include <linux/netlink.h>
#include <linux/xfrm.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <vector>

#include "backends/kernel/kernel_channel.h"
#include "backends/kernel/lower_plan.h"
#include "backends/xfrm/netlink_socket.h"
#include "backends/xfrm/xfrm_codec.h"
#include "common/diagnostics.h"
#include "compiler/compile_config.h"
#include "compiler/resolver.h"

using namespace ipsecctl;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: xfrm_floor FILE\n");
    return 2;
  }
  Diagnostics diagnostics;
  compiler::SystemResolver resolver;
  compiler::CompileRequest request;
  request.path = argv[1];
  auto result = compiler::compile_config(request, resolver, diagnostics);
  if (!result.ok()) return 1;

  // Every message, in batches, before the clock starts.
  constexpr std::size_t kBatch = 64 * 1024;
  backends::PlanLowering lowering(result.plan);
  std::vector<std::vector<std::uint8_t>> batches(1);
  std::array<backends::KernelPolicy, 2> lowered;
  std::uint32_t seq = 1, policies = 0;
  for (const auto& flow : result.plan.flows) {
    const std::size_t n = lowering.lower_flow(flow, lowered);
    for (std::size_t i = 0; i < n; ++i) {
      if (batches.back().size() >= kBatch) batches.emplace_back();
      backends::xfrm::encode_policy_change(batches.back(), backends::ChangeKind::AddPolicy,
                                           lowered[i], seq++);
      ++policies;
    }
  }
  std::vector<std::uint8_t> barrier;
  std::uint32_t flags = 0;
  backends::xfrm::encode_request(barrier, XFRM_MSG_GETSPDINFO, 0, 0xfffffff0u, &flags,
                                 sizeof flags);

  auto socket = backends::xfrm::NetlinkSocket::open(NETLINK_XFRM);
  std::vector<std::uint8_t> answers(1 << 20);
  unsigned errors = 0;
  auto drain = [&](bool until_barrier) {
    for (;;) {
      ssize_t n = socket.receive(answers, until_barrier);
      if (n <= 0) {
        if (!until_barrier) return;
        continue;
      }
      bool done = false;
      // By offset, not NLMSG_NEXT: its char* cast trips -Wcast-align.
      const auto size = static_cast<std::size_t>(n);
      for (std::size_t offset = 0; offset + sizeof(nlmsghdr) <= size;) {
        const auto* h = static_cast<const nlmsghdr*>(
            static_cast<const void*>(answers.data() + offset));
        if (h->nlmsg_len < sizeof(nlmsghdr) || h->nlmsg_len > size - offset) break;
        if (h->nlmsg_seq == 0xfffffff0u) done = true;
        else if (h->nlmsg_type == NLMSG_ERROR) ++errors;
        offset += NLMSG_ALIGN(h->nlmsg_len);
      }
      if (done) return;
    }
  };
  const auto start = std::chrono::steady_clock::now();
  for (const auto& batch : batches) {
    socket.send(batch);
    drain(false);
  }
  socket.send(barrier);
  drain(true);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  std::printf("policies %u sent_in %.4f errors %u\n", policies, took.count(), errors);
  return errors == 0 ? 0 : 1;
}
