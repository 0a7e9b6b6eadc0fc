// strongSwan's charon as the IKE daemon, over VICI: ike rules are loaded
// with load-shared and load-conn, active and dynamic ones are initiated
// and must come up (the daemon's reasons are shown when they do not), and
// -d terminates and unloads exactly those connections and secrets.
// All or nothing: when anything fails, the connections and secrets this
// run added are unloaded again.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "backends/backend.h"
#include "common/diagnostics.h"

namespace ipsecctl::backends {

class ViciBackend final : public IkeBackend {
 public:
  // `wait`: how long active and dynamic rules may take to come up (the
  // peer may be loading its side at the same time).
  ViciBackend(std::string socket_path, Diagnostics& diagnostics,
              std::chrono::milliseconds wait = std::chrono::seconds(10))
      : path_(std::move(socket_path)), diag_(diagnostics), wait_(wait) {}

  std::string name() const override { return "charon (VICI)"; }
  bool apply(const compiler::Plan& plan, Action action) override;

  // `-s all`: the IKE SAs charon holds and their child SAs.
  std::optional<IkeSnapshot> ike_sas() override;

  static bool present(const std::string& socket_path);

 private:
  std::string path_;
  Diagnostics& diag_;
  std::chrono::milliseconds wait_;
};

}  // namespace ipsecctl::backends
