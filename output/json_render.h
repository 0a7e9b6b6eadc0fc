// The same data as the text renderers, as JSON (-j): `-s` as one document,
// `-m` as one object per line (JSON Lines), `-n` as the compiled plan with
// each entry's origin. Key names are stable (ipsecctl(8) documents them);
// absent values are null, numbers are numbers, secrets appear only with -k.
#pragma once

#include <string>

#include "backends/snapshot.h"
#include "common/diagnostics.h"
#include "compiler/plan.h"
#include "compiler/resolver.h"
#include "output/show_text.h"

namespace ipsecctl::output {

std::string render_show_json(const backends::KernelSnapshot& kernel,
                             const backends::IkeSnapshot* ike, const ShowOptions& options);
// One line, newline included.
std::string render_event_json(const backends::MonitorEvent& event, bool raw);

struct PlanJsonOptions {
  bool show_keys = false;  // -k: keys and pre-shared secrets
  bool ok = true;          // false: the file had errors (nothing would load)
};
std::string render_plan_json(const compiler::Plan& plan, const Diagnostics& diagnostics,
                             const PlanJsonOptions& options);

}  // namespace ipsecctl::output
