// One -f, -d -f or --diff -f, from the file to the record, in this order:
//
//   1. For a regular file, the namespace's lock and the file's records
//      are taken before the compile (standard input is compiled first:
//      nobody should wait for somebody typing), and the kernel load is
//      begun against them:
//      - a reload (the file has a record) reads the kernel in a thread of
//        its own while the file compiles;
//      - a large first load of flows only is fed to the kernel while it
//        compiles (engine/flow_feeder), once a first pass
//        (compiler/syntax_check, in pieces on every core) has found the
//        whole file clean.
//   2. The compile. An error takes back what went out early.
//   3. The IKE daemon is found and asked what it needs (preflight) before
//      the kernel is touched any further; then the kernel part is
//      finished, then the daemon's part; when the daemon refuses, the
//      kernel part is undone. A signal meanwhile waits until both are
//      either complete or back as they were.
//   4. The record of what the file now owns is saved (unless nothing
//      changed): its kernel part was written while the kernel confirmed
//      the load, and the record is put in place now. --wait then waits
//      for the tunnels, holding no lock.
// A dry run (--diff) goes the same way and sends nothing.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <functional>

#include "backends/backend.h"
#include "common/signals.h"
#include "compiler/resolver.h"
#include "engine/load_lock.h"
#include "engine/load_request.h"
#include "engine/ownership_store.h"

namespace ipsecctl::engine {

// What a load needs of the session that runs it, and no more.
struct LoadContext {
  Diagnostics& diagnostics;
  compiler::Resolver& resolver;
  const SessionOptions& options;
  // The kernel backend, opened on first use; nullptr after reporting why
  // not (with `report` false, silently: a later call reports it).
  std::function<backends::KernelBackend*(bool report)> kernel;
  // The IKE daemon that answers, or nullptr; and why none does.
  std::function<std::unique_ptr<backends::IkeBackend>()> ike_daemon;
  std::function<std::string()> ike_daemons_looked_for;
};

class LoadRun {
 public:
  LoadRun(const LoadContext& context, const LoadRequest& request, LoadResult& result);
  ~LoadRun();
  LoadRun(const LoadRun&) = delete;
  LoadRun& operator=(const LoadRun&) = delete;

  bool go();

  // A file large enough to stream holds at least this many flow rules.
  static constexpr std::size_t kStreamingFlows = 1024;

 private:
  bool lock_and_read_records();
  bool may_stream() const;
  void compile_streaming();
  void compile_reading_kernel();
  bool compile_failed();
  bool apply();
  bool apply_kernel();
  bool apply_daemon(backends::IkeBackend& ike);
  void save_record();
  bool interrupted(bool ok);
  backends::LoadSettings settings(std::size_t expected_flows = 0);

  const LoadContext& context_;
  const LoadRequest& request_;
  LoadResult& result_;
  Diagnostics& diag_;
  const bool adding_;
  const bool dry_run_;
  const bool regular_file_;
  std::string source_;  // the record's key

  std::optional<LoadLock> lock_;
  std::unique_ptr<OwnershipStore> store_;
  // The record being written while the kernel confirms (apply_kernel).
  std::unique_ptr<RecordWriter> record_writer_;
  backends::OwnedEntries previous_, others_, now_;
  bool kernel_as_before_ = false;
  backends::SyncScope scope_;
  std::optional<SignalHold> hold_;
  std::unique_ptr<backends::KernelLoad> kernel_load_;
  std::thread reader_;  // learn_kernel() beside the compile (a reload)
};

}  // namespace ipsecctl::engine
