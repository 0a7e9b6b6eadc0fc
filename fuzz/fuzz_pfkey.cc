// Fuzz target: PF_KEY v2 messages as the kernel sends them (dump answers,
// monitor events), decoded as header, SA, policy and event.
#include <cstdint>
#include <cstring>
#include <vector>

#include "backends/kernel/kernel_show.h"
#include "backends/pfkey/pfkey_codec.h"
#include "output/json_render.h"

using namespace ipsecctl;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // PF_KEY messages are 8-byte aligned in the receive buffer.
  std::vector<std::uint64_t> aligned(size / 8 + 1);
  std::memcpy(aligned.data(), data, size);
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(aligned.data());
  (void)backends::pfkey::decode_header(bytes, size);
  if (auto state = backends::pfkey::decode_state(bytes, size)) (void)backends::sa_from_state(*state);
  if (auto policy = backends::pfkey::decode_policy(bytes, size))
    (void)backends::flow_from_policy(*policy);
  backends::MonitorEvent event = backends::pfkey::decode_event(bytes, size);
  (void)output::render_event_json(event, true);
  return 0;
}
