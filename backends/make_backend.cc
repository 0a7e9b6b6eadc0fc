#include "backends/make_backend.h"

#include <stdexcept>
#include <string>

#include "backends/kernel/channel_backend.h"
#include "backends/pfkey/pfkey_channel.h"
#include "backends/xfrm/xfrm_channel.h"

namespace ipsecctl::backends {

std::unique_ptr<KernelBackend> make_kernel_backend(std::string_view name,
                                                   Diagnostics& diagnostics,
                                                   compiler::Resolver& resolver) {
  if (name == "xfrm")
    return std::make_unique<ChannelBackend>(std::make_unique<xfrm::XfrmChannel>(), diagnostics,
                                            resolver);
  if (name == "pfkey")
    return std::make_unique<ChannelBackend>(std::make_unique<pfkey::PfkeyChannel>(), diagnostics,
                                            resolver);
  throw std::invalid_argument("unknown kernel backend '" + std::string(name) +
                              "' (known: xfrm, pfkey)");
}

}  // namespace ipsecctl::backends
