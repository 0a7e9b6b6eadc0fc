// `-s` and `-m` in OpenBSD's text: what the kernel holds as flow and SA
// lines (with PF_KEY-style detail lines under -v), the IKE SAs a daemon
// holds after them, and one line per kernel event.
#pragma once

#include <string>

#include "backends/snapshot.h"
#include "compiler/resolver.h"

namespace ipsecctl::output {

struct ShowOptions {
  bool flows = false;
  bool sas = false;
  bool titles = false;     // -s all: FLOWS:, SAD: (and IKE SAs:)
  int verbose = 0;         // -v: SA details; -vv: entry numbers
  bool show_keys = false;  // -k
  bool collapse = false;   // -c
};

std::string render_show_text(const backends::KernelSnapshot& kernel,
                             const backends::IkeSnapshot* ike, const ShowOptions& options,
                             compiler::Resolver& resolver);

// One event: "sadb_add: esp tunnel from ...", with -v a timestamp first and
// the raw message after, 8 bytes a line.
std::string render_event_text(const backends::MonitorEvent& event, int verbose,
                              const std::string& wire_name, compiler::Resolver& resolver);

// The `-s sa -v` lines after an SA's rule line.
std::string format_state_details(const backends::KernelState& state, bool show_keys);

// RFC 3339 UTC with milliseconds: 2026-11-29T16:40:00.123Z
std::string timestamp(std::chrono::system_clock::time_point when);

}  // namespace ipsecctl::output
