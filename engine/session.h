// The run as a library: what `ipsecctl -n`, `-f`, `--diff -f`, `-d -f`,
// `-F`, `-s` and `-m` do. cli/ turns options into one call to this and
// output/ renders what comes back, as nft's front end does over
// libnftables. No exception leaves it: failures are reported through
// Diagnostics and returned as false or nullopt.
//
// A load (load()) owns the whole sequence: the lock, the records, the
// compile, and, where they pay, reading the kernel while the file compiles
// (a reload) or sending to it while the file compiles (a large first
// load); then the kernel part, the daemon part, and undo across both when
// the daemon refuses its part. A dry run (--diff) is the same path with
// nothing sent. See engine/load_run.h.
//
// Loading is also a sync: each file's record (engine/ownership_store)
// says what an earlier load of it put in the kernel and the daemon, and
// what left the file leaves them in the same all-or-nothing step. -F
// empties the kernel and takes out of the daemon what ipsecctl loaded
// into it, so that a daemon never holds tunnels whose kernel state is
// gone (it would believe them up and never start them again).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/vici/vici_config.h"
#include "common/diagnostics.h"
#include "compiler/resolver.h"
#include "engine/load_request.h"
#include "engine/targets.h"

namespace ipsecctl::engine {

class Session {
 public:
  // `targets`: what the session loads into; by default the registry's, as
  // `options` name them (tests give an in-memory kernel and a fake daemon).
  Session(SessionOptions options, Diagnostics& diagnostics, compiler::Resolver& resolver,
          std::optional<Targets> targets = std::nullopt);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // The result is filled in place: -v listeners may watch its plan grow.
  void load(const LoadRequest& request, LoadResult& result);

  // What a load of `plan` gives strongSwan's charon, found without asking
  // it (--format swanctl); nullopt after naming each rule it cannot take.
  std::optional<std::vector<backends::vici::ViciConnection>> charon_configuration(
      const compiler::Plan& plan);

  bool flush();
  std::optional<backends::KernelSnapshot> kernel_snapshot(bool policies, bool states);
  // The SAs of the IKE daemon that answers; nullopt when none does (not an error).
  std::optional<backends::IkeSnapshot> ike_snapshot();
  bool watch(const std::function<bool(const backends::MonitorEvent&)>& each);
  // The kernel interface's name ("XFRM", "PF_KEY"), for raw dumps.
  std::string kernel_name();
  // When each file was last loaded successfully.
  std::vector<std::pair<std::string, std::chrono::system_clock::time_point>> load_times();

  const SessionOptions& options() const { return options_; }

 private:
  // The kernel backend, opened on first use; nullptr after reporting why it
  // cannot be (or, with `report` false, without a word: a later call
  // reports it).
  backends::KernelBackend* kernel(bool report = true);
  // The daemon that will take ike rules, or nullptr when none answers.
  std::unique_ptr<backends::IkeBackend> ike_daemon();

  SessionOptions options_;
  Diagnostics& diag_;
  compiler::Resolver& resolver_;
  Targets targets_;
  std::unique_ptr<backends::KernelBackend> kernel_;  // opened on first use
};

}  // namespace ipsecctl::engine
