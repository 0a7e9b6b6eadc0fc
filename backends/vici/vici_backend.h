// strongSwan's charon as the IKE daemon, over VICI.
//
// A load succeeds once charon has accepted the connections and secrets:
// negotiating is charon's job and never fails or undoes a load. Active and
// dynamic tunnels are started once (asynchronously) and kept by charon:
// trap policies restart them on traffic, keyingtries 0 retries for as long
// as they are loaded, dynamic ones restart on DPD. wait_for_tunnels() is
// the opt-in way to learn whether they came up.
//
// Loading is a sync with charon's own lists, in sections as OpenBSD's
// ike.c writes isakmpd's: diff (what charon already holds as this file
// loaded it is not sent again), load with rollback (when charon refuses
// anything, what this run loaded is unloaded and what it replaced is
// restored), stale removal (what an earlier load of the file added and
// the file no longer has is terminated and unloaded; what other files or
// other tools loaded is never touched), initiate, record.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/vici/vici_client.h"
#include "backends/vici/vici_config.h"
#include "common/diagnostics.h"

namespace ipsecctl::backends {

class ViciBackend final : public IkeBackend {
 public:
  ViciBackend(std::string socket_path, std::string key_directory, Diagnostics& diagnostics)
      : IkeBackend(diagnostics),
        path_(std::move(socket_path)),
        key_directory_(std::move(key_directory)) {}

  std::string name() const override { return "charon (VICI)"; }
  bool apply(const compiler::Plan& plan, Action action, const SyncScope& scope,
             const LoadSettings& settings, BackendChanges& changes) override;
  std::optional<IkeSnapshot> ike_sas() override;
  bool remove_owned(const OwnedEntries& owned) override;
  bool wait_for_tunnels(std::chrono::seconds patience) override;
  void listen_before_apply() override;

  static bool present(const std::string& socket_path);
  // What apply() gives charon for `plan`, as load-conn and load-shared
  // messages (--format swanctl renders them), with the keys of rules
  // without psk from `key_directory`; nullopt after naming each rule
  // charon cannot take.
  static std::optional<std::vector<vici::ViciConnection>> configuration(
      const compiler::Plan& plan, Diagnostics& diagnostics, const std::string& key_directory);

 private:
  struct Load;  // one apply(): what charon holds, what the record says, what goes
  struct Started {
    std::string connection;
    std::string child;
    std::string peer;
    SourceLocation origin;
    bool may_start = true;  // from an address this host has, toward a route
  };

  bool remove_file(Load& load);
  // While waiting: starts again what charon gave up on (see vici_tunnels);
  // the connections it asked for.
  std::set<std::string> retry_refused(
      vici::ViciClient& client, const std::set<std::pair<std::string, std::string>>& up,
      const std::set<std::string>& negotiating,
      std::map<std::pair<std::string, std::string>, std::chrono::steady_clock::time_point>& asked);
  void diff(Load& load);
  bool load_with_rollback(Load& load);
  bool load_private_key(Load& load);
  bool load_pools(Load& load);
  void undo_pools(Load& load, std::size_t count);
  void remove_stale(Load& load);
  void initiate(Load& load);
  static void record(const Load& load, OwnedEntries* now);
  static void report(const Load& load, bool adding, bool list, BackendChanges& changes);

  std::string path_;
  std::string key_directory_;
  std::vector<Started> started_;  // the active and dynamic tunnels of the last apply()
  std::unique_ptr<vici::ViciClient> log_;  // charon's log, while a --wait is coming
};

}  // namespace ipsecctl::backends
