// `ipsecctl -s all --format prometheus`: what the kernel and the IKE
// daemon hold, as Prometheus text (exposition format 0.0.4), for
// node_exporter's textfile collector (write it to a .prom file from a
// timer). Flows per direction, SAs with their byte and packet counters,
// per connection whether it is up, IKE SAs by state, child SA counters,
// and when each file was last loaded. No key ever appears.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "backends/snapshot.h"

namespace ipsecctl::output {

using LoadTimes = std::vector<std::pair<std::string, std::chrono::system_clock::time_point>>;

std::string render_show_prometheus(const backends::KernelSnapshot& kernel,
                                   const backends::IkeSnapshot* ike, const LoadTimes& loads);

}  // namespace ipsecctl::output
