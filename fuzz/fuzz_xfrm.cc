// Fuzz target: what the kernel answers over XFRM netlink (dumps, events):
// a buffer of netlink messages, each decoded as a policy, a state and an
// event, and the result rendered as -s and -m would.
#include <linux/netlink.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "backends/kernel/kernel_show.h"
#include "backends/xfrm/xfrm_codec.h"
#include "output/json_render.h"

using namespace ipsecctl;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Netlink messages are 4-byte aligned in the receive buffer.
  std::vector<std::uint32_t> aligned((size + 3) / 4 + 1);
  std::memcpy(aligned.data(), data, size);
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(aligned.data());
  // Walked as the receive path walks it: a header, a length that fits.
  for (std::size_t offset = 0; offset + sizeof(nlmsghdr) <= size;) {
    const auto* message = reinterpret_cast<const nlmsghdr*>(bytes + offset);
    if (message->nlmsg_len < sizeof(nlmsghdr) || message->nlmsg_len > size - offset) break;
    offset += (static_cast<std::size_t>(message->nlmsg_len) + 3) & ~std::size_t{3};
    if (auto policy = backends::xfrm::decode_policy(*message)) {
      (void)backends::flow_from_policy(*policy);
      (void)backends::policy_identity(*policy);
    }
    if (auto state = backends::xfrm::decode_state(*message)) {
      (void)backends::sa_from_state(*state);
      (void)backends::state_identity(*state);
    }
    backends::MonitorEvent event = backends::xfrm::decode_event(*message);
    (void)output::render_event_json(event, true);
  }
  return 0;
}
