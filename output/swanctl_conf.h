// swanctl.conf(5): what a load gives charon, as a file strongSwan's own
// tool loads (`ipsecctl -n --format swanctl -f FILE`, and the IKEv2 part
// of `-nv`). It renders the very load-conn and load-shared messages the
// VICI backend sends, so `swanctl --load-all` of it gives charon what
// `ipsecctl -f` gives it: the way out of ipsecctl, and the plainest
// account of what a rule means to charon.
#pragma once

#include <string>
#include <vector>

#include "backends/vici/vici_config.h"

namespace ipsecctl::output {

// `header`: a comment line above the file ("" for none).
std::string render_swanctl_conf(const std::vector<backends::vici::ViciConnection>& connections,
                                const std::string& header);

}  // namespace ipsecctl::output
