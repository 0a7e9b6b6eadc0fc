// The requests ipsecctl makes of charon more than once: listing what it
// holds, taking connections and secrets out again, starting tunnels, and
// keeping a load-conn message in a record (hex).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "backends/vici/vici_client.h"

namespace ipsecctl::backends::vici {

bool succeeded(const ViciSection& reply);
// The names in a get-conns ("conns") or get-shared ("keys") answer.
std::set<std::string> listed(ViciClient& client, const char* command, const char* key);
// The names of the sections of a reply (get-pools: one per pool).
std::set<std::string> sections_of(ViciClient& client, const char* command);
// unload-pool for each of `names` charon holds (`held`); what failed, in words.
std::vector<std::string> unload_pools(ViciClient& client, const std::set<std::string>& names,
                                      const std::set<std::string>& held);
// Takes connections out of charon: unloaded first, so that no new
// negotiation can find them (a peer whose tunnel is deleted may start
// again at once), then their IKE SAs terminated, again while one that was
// already negotiating completes. Returns what failed, as sentences.
std::vector<std::string> remove_connections(ViciClient& client, const std::set<std::string>& names);
// unload-shared for each id charon holds; returns what failed.
std::vector<std::string> unload_secrets(ViciClient& client, const std::set<std::string>& ids,
                                        const std::set<std::string>& held);
// The connections charon holds IKE SAs of (in any state). Every listing
// of IKE SAs waits for the ones a charon worker holds at that moment (a
// rekey, a delete): with noblock charon leaves them out, and a busy IKE SA
// would look gone (started twice, or missing from -s).
std::set<std::string> ike_sa_names(ViciClient& client);
// Sends `now` at once; then, for at most a few seconds, watches charon's
// IKE SAs and drops each of `deferred` (keyed by peer address) whose peer
// starts talking; what is left is started after all.
void start_tunnels(ViciClient& client, std::vector<ViciClient::Request> now,
                   std::vector<std::pair<std::string, ViciClient::Request>> deferred);
std::string to_hex(const std::vector<std::uint8_t>& bytes);
std::optional<std::vector<std::uint8_t>> from_hex(const std::string& text);
// A load-conn message kept as hex in a record, decoded; nullopt if it is
// not one.
std::optional<ViciSection> load_conn_from_hex(const std::string& text);

}  // namespace ipsecctl::backends::vici
