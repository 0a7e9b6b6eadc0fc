// The one small interface every target implements: a kernel (XFRM
// netlink, PF_KEY) or an IKE daemon (isakmpd, charon over VICI).
//
// A backend is chosen at run time. It loads a plan all or nothing: when
// any message fails it removes what this run added and reports the rule
// (file:line) the failing message came from.
#pragma once

#include <memory>
#include <string>

#include "compiler/plan.h"
#include "parser/diagnostics.h"

namespace ipsecctl::backends {

enum class Action { Add, Delete };

struct LoadOutcome {
  bool ok = true;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // Adds (or with Action::Delete removes) the part of the plan this
  // backend is responsible for.
  virtual LoadOutcome apply(const compiler::Plan& plan, Action action,
                            const Diagnostics& diagnostics) = 0;
};

}  // namespace ipsecctl::backends
