#include "engine/session.h"

#include "backends/vici/vici_backend.h"
#include "engine/load_lock.h"
#include "engine/load_run.h"
#include "engine/ownership_store.h"

namespace ipsecctl::engine {

Session::Session(SessionOptions options, Diagnostics& diagnostics, compiler::Resolver& resolver,
                 std::optional<Targets> targets)
    : options_(std::move(options)),
      diag_(diagnostics),
      resolver_(resolver),
      targets_(targets ? std::move(*targets) : registry_targets(options_)) {}

Session::~Session() = default;

void Session::load(const LoadRequest& request, LoadResult& result) {
  if (request.mode == LoadMode::Check) {
    compiler::compile_config(request.compile, resolver_, diag_, result.compiled);
    result.ok = result.compiled.ok();
    // `iked -n` says no more than its messages.
    if (!result.ok && !result.compiled.fatal &&
        request.compile.language == compiler::Language::IpsecConf)
      diag_.failure("Syntax error in config file: ipsec rules not loaded");
    return;
  }
  const LoadContext context{diag_, resolver_, options_,
                            [this](bool report) { return kernel(report); },
                            [this] { return ike_daemon(); },
                            targets_.ike_daemons_looked_for};
  LoadRun run(context, request, result);
  result.ok = run.go();
}

std::optional<std::vector<backends::vici::ViciConnection>> Session::charon_configuration(
    const compiler::Plan& plan) {
  return backends::ViciBackend::configuration(plan, diag_, options_.endpoints.key_directory);
}

backends::KernelBackend* Session::kernel(bool report) {
  if (kernel_) return kernel_.get();
  try {
    kernel_ = targets_.kernel(diag_, resolver_);
  } catch (const backends::KernelError& error) {
    if (report) diag_.failure(error.what());
    return nullptr;
  }
  return kernel_.get();
}

std::unique_ptr<backends::IkeBackend> Session::ike_daemon() { return targets_.ike_daemon(diag_); }

bool Session::flush() {
  auto lock = LoadLock::acquire(diag_, options_.lock_patience);
  if (!lock) return false;
  backends::KernelBackend* k = kernel();
  if (k == nullptr || !k->flush()) return false;
  // The kernel half of every tunnel is gone: the daemon's half goes too,
  // for what ipsecctl loaded into it, so that the next -f starts them
  // afresh. What other tools gave the daemon stays.
  OwnershipStore store(diag_);
  backends::OwnedEntries daemon_entries;
  const auto sources = store.sources();
  for (const std::string& source : sources)
    for (auto& e : store.load(source).entries) daemon_entries.add(std::move(e));
  bool ok = true;
  if (!daemon_entries.empty()) {
    auto ike = ike_daemon();
    if (!ike) {
      diag_.warning("no IKE daemon answers (" + targets_.ike_daemons_looked_for() +
                    "); the tunnels ipsecctl gave it are flushed from the kernel only");
      // Each record keeps its daemon part, for the next load to check.
      for (const std::string& source : sources) {
        backends::OwnedEntries daemon_part;
        daemon_part.entries = store.load(source).entries;
        store.save(source, daemon_part);
      }
      return true;
    }
    ok = ike->remove_owned(daemon_entries);
  }
  for (const std::string& source : sources) store.remove(source);
  return ok;
}

std::optional<backends::KernelSnapshot> Session::kernel_snapshot(bool policies, bool states) {
  backends::KernelBackend* k = kernel();
  if (k == nullptr) return std::nullopt;
  return k->snapshot(policies, states);
}

std::optional<backends::IkeSnapshot> Session::ike_snapshot() {
  auto daemon = ike_daemon();
  if (!daemon) return std::nullopt;
  return daemon->ike_sas();
}

bool Session::watch(const std::function<bool(const backends::MonitorEvent&)>& each) {
  backends::KernelBackend* k = kernel();
  return k != nullptr && k->watch(each);
}

std::vector<std::pair<std::string, std::chrono::system_clock::time_point>> Session::load_times() {
  return OwnershipStore(diag_).load_times();
}

std::string Session::kernel_name() {
  backends::KernelBackend* k = kernel();
  return k == nullptr ? options_.kernel : k->name();
}

}  // namespace ipsecctl::engine
