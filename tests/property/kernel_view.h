// The kernel's SPD and SAD as the reload property compares them: each
// policy and SA as a line of every field the kernel keeps for it, keyed by
// what the kernel tells entries apart by, leaving out only what differs
// between two loads of the same file (policy indexes, counters, times).
// Written here, field by field, rather than with the product's own
// fingerprints, so that a field those forget is still compared.
#pragma once

#include <map>
#include <set>
#include <string>

#include "backends/changes.h"
#include "backends/snapshot.h"

namespace ipsecctl::property {

// identity -> content
using KernelView = std::map<std::string, std::string>;

// Only what ipsecctl puts there: entries with a request id (charon's
// trap policies and SAs, reqid > 0) are the daemon's, compared through
// its connections instead.
KernelView view_of(const backends::KernelSnapshot& snapshot);

// Changes as comparable lines: "add KEY = CONTENT", "change KEY = CONTENT",
// "remove KEY" (a removal is known by its key). A removal and an addition
// of the same key are one change.
std::set<std::string> change_lines(const backends::BackendChanges& changes);
std::set<std::string> change_lines(const KernelView& before, const KernelView& after);

// The lines of `a` not in `b`, for a failure report.
std::string difference(const std::set<std::string>& a, const std::set<std::string>& b);
std::string difference(const KernelView& a, const KernelView& b);

}  // namespace ipsecctl::property
