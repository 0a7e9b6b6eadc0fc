// Plan entries as ipsec.conf text, in OpenBSD's formats: the lines
// `ipsecctl -nv` and `-s` print, also used to name a rule in messages.
#pragma once

#include <string>
#include <vector>

#include "compiler/plan.h"
#include "compiler/resolver.h"

namespace ipsecctl::compiler {

const char* satype_name(SaType type);
const char* flow_type_name(FlowType type);

std::string format_flow(const FlowEntry& flow, Resolver& resolver);
// `-s flow -c`: flows that differ only in their addresses, as one line
// with braces ("from { a, b } to { c }").
std::string format_flow_group(const FlowEntry& first, const std::vector<IpAddress>& sources,
                              const std::vector<IpAddress>& destinations, Resolver& resolver);
std::string format_sa(const SaEntry& sa, bool show_keys);
std::string format_bundle(const BundleEntry& bundle);

}  // namespace ipsecctl::compiler
