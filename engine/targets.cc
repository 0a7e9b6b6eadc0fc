#include "engine/targets.h"

#include "backends/kernel/kernel_channel.h"
#include "backends/registry.h"

namespace ipsecctl::engine {

Targets registry_targets(const SessionOptions& options) {
  Targets t;
  t.kernel = [name = options.kernel](Diagnostics& diag, compiler::Resolver& resolver)
      -> std::unique_ptr<backends::KernelBackend> {
    const auto* info = backends::find_kernel_interface(name);
    if (info == nullptr)
      throw backends::KernelError("unknown kernel interface '" + name +
                                  "' (known: " + backends::kernel_interface_names() + ")");
    return info->make(diag, resolver);
  };
  t.ike_daemon = [ike = options.ike, endpoints = options.endpoints](
                     Diagnostics& diag) -> std::unique_ptr<backends::IkeBackend> {
    for (const auto& daemon : backends::ike_daemons()) {
      if (ike != "auto" && ike != daemon.name) continue;
      if (daemon.present(endpoints)) return daemon.make(endpoints, diag);
    }
    return nullptr;
  };
  t.ike_daemons_looked_for = [ike = options.ike, endpoints = options.endpoints] {
    std::string reasons;
    for (const auto& daemon : backends::ike_daemons()) {
      if (ike != "auto" && ike != daemon.name) continue;
      reasons += (reasons.empty() ? "" : ", and ") + daemon.absent_reason(endpoints);
    }
    return reasons;
  };
  return t;
}

}  // namespace ipsecctl::engine
