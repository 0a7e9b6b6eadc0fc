// Chooses a kernel backend by name at run time.
#pragma once

#include <memory>
#include <string_view>

#include "backends/backend.h"
#include "compiler/resolver.h"
#include "common/diagnostics.h"

namespace ipsecctl::backends {

// "xfrm" (the default on Linux) or "pfkey". Throws KernelError when the kernel
// interface cannot be opened, std::invalid_argument for an unknown name.
std::unique_ptr<KernelBackend> make_kernel_backend(std::string_view name,
                                                   Diagnostics& diagnostics,
                                                   compiler::Resolver& resolver);

}  // namespace ipsecctl::backends
