// The XFRM interfaces of this network namespace (ip link ... type xfrm),
// read over rtnetlink: `ike ... interface secN` needs one whose if_id is
// N, or charon's SAs and policies for it catch no traffic at all.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ipsecctl::backends::xfrm {

struct XfrmInterface {
  std::string name;
  std::uint32_t if_id = 0;
  bool up = false;
};

// Every XFRM interface; throws KernelError when rtnetlink cannot be read.
std::vector<XfrmInterface> xfrm_interfaces();

}  // namespace ipsecctl::backends::xfrm
