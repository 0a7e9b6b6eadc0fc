// The same data as the text renderers, as JSON (-j): `-s` as one document,
// `-m` as one object per line (JSON Lines), `-n` as the compiled plan with
// each entry's origin. Key names are stable (ipsecctl(8) documents them);
// absent values are null, numbers are numbers, secrets appear only with -k.
#pragma once

#include <string>
#include <vector>

#include "backends/changes.h"
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

// What a load changed (-f -j) or would change (--diff -j): per backend,
// counts by kind and, for --diff, each entry; then the run's diagnostics.
struct ChangesJsonOptions {
  bool ok = true;
  bool dry_run = false;
  bool show_keys = false;  // -k: SA keys of changed SAs
  // The same changes as --diff's text (output/change_text), for callers
  // that show both without asking twice (the Ansible module); "" for none.
  std::string text;
};
std::string render_changes_json(const std::vector<backends::BackendChanges>& changes,
                                const Diagnostics& diagnostics, const ChangesJsonOptions& options);

}  // namespace ipsecctl::output
