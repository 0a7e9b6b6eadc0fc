// What a session loads into, as values: how to open the kernel backend
// and how to find an IKE daemon. A run of ipsecctl takes the registry's
// (backends/registry), as its options name them; tests give an in-memory
// kernel and a fake daemon and drive the very same load (Session::load).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "backends/backend.h"
#include "common/diagnostics.h"
#include "compiler/resolver.h"
#include "engine/load_request.h"

namespace ipsecctl::engine {

struct Targets {
  // Opens the kernel backend; throws backends::KernelError when it cannot.
  std::function<std::unique_ptr<backends::KernelBackend>(Diagnostics&, compiler::Resolver&)>
      kernel;
  // The IKE daemon that will take ike rules, or nullptr when none answers.
  std::function<std::unique_ptr<backends::IkeBackend>(Diagnostics&)> ike_daemon;
  // Why none answered, for messages ("charon does not answer on ...").
  std::function<std::string()> ike_daemons_looked_for;
};

// The registry's: the kernel interface --kernel names, the daemon --ike
// names or, with auto, the first of the registry that answers.
Targets registry_targets(const SessionOptions& options);

}  // namespace ipsecctl::engine
