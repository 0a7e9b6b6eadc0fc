// Kernel entries read back as ipsec.conf rules, as OpenBSD's `ipsecctl -s`
// shows them: policies as flows, states as manual SAs, in its order.
//
// XFRM `fwd` policies are the Linux half of an `in` flow, so they are not
// flows of their own; per-socket policies are not flows at all.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "backends/kernel_objects.h"
#include "backends/snapshot.h"
#include "compiler/plan.h"
#include "compiler/resolver.h"

namespace ipsecctl::backends {

std::optional<compiler::FlowEntry> flow_from_policy(const KernelPolicy& policy);

// Every policy that is a flow, as a flow, in display order. With the IKE
// daemon's SAs, a flow that one of its child SAs installed (by request id)
// also shows what the daemon knows and the kernel does not: the IKE
// identities, as srcid and dstid (OpenBSD's kernel keeps them on the flow).
std::vector<compiler::FlowEntry> flows_from_policies(const std::vector<KernelPolicy>& policies,
                                                     const IkeSnapshot* ike);
compiler::SaEntry sa_from_state(const KernelState& state);

// Orders flows so that entries to the same peer sit together (and can be
// collapsed with -c).
bool flow_display_less(const compiler::FlowEntry& a, const compiler::FlowEntry& b);

// Whether -c may merge `b` into the group started by `a`.
bool flows_collapse(const compiler::FlowEntry& a, const compiler::FlowEntry& b);

}  // namespace ipsecctl::backends
