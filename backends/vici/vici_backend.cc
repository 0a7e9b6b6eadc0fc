#include "backends/vici/vici_backend.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "backends/host_routes.h"
#include "backends/vici/vici_charon.h"
#include "backends/vici/vici_config.h"
#include "backends/kernel_error.h"
#include "backends/xfrm/xfrm_interfaces.h"

namespace ipsecctl::backends {

using vici::ViciClient;
using vici::ViciConnection;
using vici::ViciError;
using vici::ViciItem;
using vici::ViciSection;
using vici::value;
using vici::value_of;

namespace {

// "ike-ipsecctl-peer-X" of "ike-ipsecctl-peer-X~2".
std::string base_of(const std::string& id) { return id.substr(0, id.find('~')); }

// "name~N" -> N (1 without a suffix; 0: not of this base).
unsigned generation_of(const std::string& id, const std::string& base) {
  if (id == base) return 1;
  if (id.size() > base.size() + 1 && id.compare(0, base.size(), base) == 0 && id[base.size()] == '~')
    return static_cast<unsigned>(std::strtoul(id.c_str() + base.size() + 1, nullptr, 10));
  return 0;
}

std::set<std::string> keys_of(const OwnedEntries* entries, OwnedKind kind) {
  std::set<std::string> out;
  if (entries != nullptr)
    for (const OwnedEntry* e : entries->of(kind)) out.insert(e->key);
  return out;
}

// The children of a load-conn message, each encoded, by name.
std::map<std::string, std::vector<std::uint8_t>> children_of(const ViciSection& load_conn) {
  std::map<std::string, std::vector<std::uint8_t>> out;
  if (load_conn.empty()) return out;
  const ViciItem* children = vici::find(load_conn.front().section, "children");
  if (children == nullptr) return out;
  for (const ViciItem& child : children->section) out[child.name] = vici::encode(child.section);
  return out;
}

// What to say when charon refuses an IKEv1 connection: strongSwan 6.1 and
// later are built without IKEv1 unless asked, and charon's own words do
// not always say so. Its version tells whether that may be the cause ("":
// it cannot be, say nothing more).
std::string without_ikev1(ViciClient& client) {
  std::string version;
  try {
    version = value_of(client.call("version", {}), "version");
  } catch (const ViciError&) {
  }
  const int major = std::atoi(version.c_str());
  const auto dot = version.find('.');
  const int minor = dot == std::string::npos ? 0 : std::atoi(version.c_str() + dot + 1);
  if (major < 6 || (major == 6 && minor < 1)) return {};
  return "this is strongSwan " + version +
         ": from 6.1 on charon is built without IKEv1 unless configured with --enable-ikev1, and "
         "the file's rules are IKEv1 (OpenBSD's); load them as IKEv2: --ike-version 2 "
         "(IPSECCTL_OPTIONS in /etc/default/ipsecctl for the unit), or ipsecctl_ike_version = "
         "\"2\" before them in the file";
}

// Unloads private keys by id; what failed, in words.
std::vector<std::string> unload_keys(ViciClient& client, const std::set<std::string>& ids) {
  std::vector<std::string> failures;
  for (const std::string& id : ids) {
    const ViciSection answer = client.call("unload-key", {value("id", id)});
    if (!vici::succeeded(answer))
      failures.push_back("unload the private key " + id + ": " + value_of(answer, "errmsg"));
  }
  return failures;
}

}  // namespace

struct ViciBackend::Load {
  Load(ViciClient& c, const SyncScope& scope, std::vector<ViciConnection> conns)
      : client(c), connections(std::move(conns)) {
    loaded = vici::listed(client, "get-conns", "conns");
    secrets = vici::listed(client, "get-shared", "keys");
    if (scope.previous != nullptr)
      for (const OwnedEntry& e : scope.previous->entries)
        if (e.kind == OwnedKind::ViciConnection || e.kind == OwnedKind::ViciSecret)
          previous.emplace(e.key, &e);
    claimed_conns = keys_of(scope.others, OwnedKind::ViciConnection);
    claimed_secrets = keys_of(scope.others, OwnedKind::ViciSecret);
    claimed_keys = keys_of(scope.others, OwnedKind::ViciKey);
    if (scope.previous != nullptr)
      for (const OwnedEntry* e : scope.previous->of(OwnedKind::ViciKey)) previous_keys[e->key] = e;
    for (const ViciConnection& conn : connections)
      if (conn.private_key) {
        key = conn.private_key.get();
        break;
      }
    if (key != nullptr || !previous_keys.empty())
      private_keys = vici::listed(client, "get-keys", "keys");
    // Address pools (iked.conf's `config address`): asked about only when
    // the file has or had some.
    for (const ViciConnection& conn : connections) {
      for (const vici::ViciPool& pool : conn.pools) file_pools.push_back(&pool);
      for (const vici::ViciSecret& s : conn.user_secrets) user_secrets.push_back(&s);
    }
    if (scope.previous != nullptr)
      for (const OwnedEntry* e : scope.previous->of(OwnedKind::ViciPool)) previous_pools[e->key] = e;
    claimed_pools = keys_of(scope.others, OwnedKind::ViciPool);
    if (!file_pools.empty() || !previous_pools.empty())
      pools = vici::sections_of(client, "get-pools");
  }
  const OwnedEntry* recorded(const std::string& name) const {
    auto it = previous.find(name);
    return it == previous.end() ? nullptr : it->second;
  }

  ViciClient& client;
  std::vector<ViciConnection> connections;
  std::set<std::string> loaded, secrets;              // what charon holds
  std::map<std::string, const OwnedEntry*> previous;  // the record, by name
  std::set<std::string> claimed_conns, claimed_secrets;

  // What this load sends: per connection, whether the connection goes and
  // under which id its secret goes (empty: none, or charon has it).
  struct Pending {
    const ViciConnection* connection;
    std::string secret_id;
    bool send_conn = false;
  };
  std::vector<Pending> pending;
  std::set<std::string> keep_secrets;  // the secret ids the file owns afterwards
  std::set<std::string> stale_conns, stale_secrets;

  // This host's private key, for the rules without psk: at most one
  // (local.key), loaded by this run or kept under its id from the last.
  const vici::ViciPrivateKey* key = nullptr;
  std::string key_id;     // charon's id for it, once known
  bool send_key = false;  // not held as recorded: load-key
  bool key_was_held = false;  // charon had that id before this run

  // Address pools: the file's, charon's, the record's; what goes out.
  std::vector<const vici::ViciPool*> file_pools;
  std::set<std::string> pools;
  std::map<std::string, const OwnedEntry*> previous_pools;
  std::set<std::string> claimed_pools;
  std::vector<const vici::ViciPool*> send_pools;
  std::set<std::string> stale_pools;

  // EAP secrets (iked.conf's users), each under its own id, replaced in
  // place when changed.
  std::vector<const vici::ViciSecret*> user_secrets;
  std::vector<const vici::ViciSecret*> send_user_secrets;
  std::set<std::string> private_keys;  // get-keys: the ids charon holds
  std::map<std::string, const OwnedEntry*> previous_keys;  // the record's, by id
  std::set<std::string> claimed_keys, stale_keys;
};

bool ViciBackend::present(const std::string& socket_path) {
  return ViciClient::reachable(socket_path);
}

std::optional<std::vector<ViciConnection>> ViciBackend::configuration(
    const compiler::Plan& plan, Diagnostics& diagnostics, const std::string& key_directory) {
  keys::KeyDirectory keys(key_directory);
  // iked.conf's `iface`: the XFRM interfaces this host has, read once.
  std::optional<std::vector<xfrm::XfrmInterface>> interfaces;
  auto if_id_of = [&](const std::string& name) -> std::optional<std::uint32_t> {
    if (!interfaces) {
      try {
        interfaces = xfrm::xfrm_interfaces();
      } catch (const KernelError&) {
        interfaces.emplace();
      }
    }
    for (const auto& i : *interfaces)
      if (i.name == name) return i.if_id;
    return std::nullopt;
  };
  return vici::translate(plan, diagnostics, source_address_for, &keys, if_id_of);
}

bool ViciBackend::apply(const compiler::Plan& plan, Action action, const SyncScope& scope,
                        const LoadSettings& settings, BackendChanges& changes) {
  started_.clear();
  changes.backend = name();
  changes.counts[kConnections];
  changes.counts[kSecrets];
  const bool has_previous = scope.previous != nullptr &&
                            (!scope.previous->of(OwnedKind::ViciConnection).empty() ||
                             !scope.previous->of(OwnedKind::ViciSecret).empty() ||
                             !scope.previous->of(OwnedKind::ViciPool).empty());
  if (!plan.has_ike() && !has_previous) return true;
  auto connections = configuration(plan, diag_, key_directory_);
  if (!connections) {
    diag_.failure("strongSwan cannot express these rules; nothing was sent to charon");
    return false;
  }
  try {
    ViciClient client(path_);
    Load load(client, scope, std::move(*connections));
    const bool adding = action == Action::Add;
    if (adding) diff(load);
    report(load, adding, settings.list_changes, changes);
    if (settings.dry_run) return true;
    if (!adding) return remove_file(load);
    if (!load_with_rollback(load)) return false;
    remove_stale(load);
    initiate(load);
    record(load, scope.now);
    return true;
  } catch (const ViciError& error) {
    diag_.failure(error.what());
    return false;
  }
}

// -d: the file's connections and secrets, and whatever an earlier load of
// it left.
bool ViciBackend::remove_file(Load& load) {
  std::set<std::string> conns, keys;
  for (const auto& c : load.connections)
    if (load.loaded.count(c.name) != 0) conns.insert(c.name);
  for (const auto& [name, e] : load.previous)
    (e->kind == OwnedKind::ViciConnection ? conns : keys).insert(name);
  std::set<std::string> bases;
  for (const auto& c : load.connections)
    if (c.secret) bases.insert(c.secret->base_id);
  for (const vici::ViciSecret* s : load.user_secrets) bases.insert(s->base_id);
  for (const std::string& id : load.secrets)
    if (bases.count(base_of(id)) != 0) keys.insert(id);
  std::erase_if(conns, [&](const std::string& n) { return load.loaded.count(n) == 0; });
  std::vector<std::string> failures = vici::remove_connections(load.client, conns);
  for (auto& f : vici::unload_secrets(load.client, keys, load.secrets)) failures.push_back(f);
  std::set<std::string> private_keys;
  for (const auto& [id, e] : load.previous_keys)
    if (load.claimed_keys.count(id) == 0 && load.private_keys.count(id) != 0) private_keys.insert(id);
  for (auto& f : unload_keys(load.client, private_keys)) failures.push_back(f);
  std::set<std::string> pools;
  for (const vici::ViciPool* pool : load.file_pools) pools.insert(pool->name);
  for (const auto& [name, e] : load.previous_pools)
    if (load.claimed_pools.count(name) == 0) pools.insert(name);
  for (auto& f : vici::unload_pools(load.client, pools, load.pools)) failures.push_back(f);
  for (const auto& f : failures) diag_.failure("charon could not " + f);
  return failures.empty();
}

// What must be sent: connections charon lacks or holds otherwise than
// this file had it, secrets that are new or changed; and what an earlier
// load of the file added and the file no longer has.
void ViciBackend::diff(Load& load) {
  std::map<std::string, std::vector<const OwnedEntry*>> recorded_secrets;  // by base
  for (const auto& [name, e] : load.previous)
    if (e->kind == OwnedKind::ViciSecret) recorded_secrets[base_of(name)].push_back(e);
  std::map<std::string, std::vector<std::string>> charon_secrets;  // by base
  for (const std::string& id : load.secrets) charon_secrets[base_of(id)].push_back(id);

  for (const ViciConnection& c : load.connections) {
    Load::Pending p{&c, {}, false};
    const OwnedEntry* prev = load.recorded(c.name);
    p.send_conn = load.loaded.count(c.name) == 0 || prev == nullptr || prev->digest != c.digest;
    if (c.secret) {
      // The secret this file loaded last time, if charon still has it
      // unchanged; otherwise the next generation, beside the old one.
      unsigned newest = 0;
      std::string reuse;
      for (const OwnedEntry* e : recorded_secrets[c.secret->base_id]) {
        const unsigned g = generation_of(e->key, c.secret->base_id);
        if (g == 0) continue;
        newest = std::max(newest, g);
        if (e->digest == c.secret->digest && load.secrets.count(e->key) != 0) reuse = e->key;
      }
      for (const std::string& id : charon_secrets[c.secret->base_id])
        newest = std::max(newest, generation_of(id, c.secret->base_id));
      if (reuse.empty())
        p.secret_id = newest == 0 ? c.secret->base_id
                                  : c.secret->base_id + "~" + std::to_string(newest + 1);
      load.keep_secrets.insert(reuse.empty() ? p.secret_id : reuse);
    }
    load.pending.push_back(std::move(p));
  }
  for (const vici::ViciSecret* s : load.user_secrets) {
    const OwnedEntry* prev = load.recorded(s->base_id);
    if (load.secrets.count(s->base_id) == 0 || prev == nullptr || prev->digest != s->digest)
      load.send_user_secrets.push_back(s);
    load.keep_secrets.insert(s->base_id);
  }
  // Pools: sent when charon lacks them or holds them otherwise than
  // recorded; the record's that the file no longer has go.
  std::set<std::string> pool_names;
  for (const vici::ViciPool* pool : load.file_pools) {
    pool_names.insert(pool->name);
    auto prev = load.previous_pools.find(pool->name);
    if (load.pools.count(pool->name) == 0 || prev == load.previous_pools.end() ||
        prev->second->digest != pool->digest)
      load.send_pools.push_back(pool);
  }
  for (const auto& [name, e] : load.previous_pools)
    if (pool_names.count(name) == 0 && load.claimed_pools.count(name) == 0 &&
        load.pools.count(name) != 0)
      load.stale_pools.insert(name);
  // The private key: kept when charon still holds it as recorded.
  if (load.key != nullptr) {
    for (const auto& [id, e] : load.previous_keys)
      if (e->digest == load.key->digest && load.private_keys.count(id) != 0) load.key_id = id;
    load.send_key = load.key_id.empty();
  }
  for (const auto& [id, e] : load.previous_keys)
    if (id != load.key_id && load.claimed_keys.count(id) == 0 && load.private_keys.count(id) != 0)
      load.stale_keys.insert(id);
  std::set<std::string> names;
  for (const auto& c : load.connections) names.insert(c.name);
  for (const auto& [name, e] : load.previous) {
    if (e->kind == OwnedKind::ViciConnection) {
      if (names.count(name) == 0 && load.claimed_conns.count(name) == 0 &&
          load.loaded.count(name) != 0)
        load.stale_conns.insert(name);
    } else if (load.keep_secrets.count(name) == 0 && load.claimed_secrets.count(name) == 0 &&
               load.secrets.count(name) != 0) {
      load.stale_secrets.insert(name);
    }
  }
}

// Secrets first, then connections, in one batch. When charon refuses
// anything, back to what it held: what was new is unloaded, what was
// replaced is restored from the record, the secrets this run added go.
bool ViciBackend::load_with_rollback(Load& load) {
  if (load.send_key && !load_private_key(load)) return false;
  if (!load_pools(load)) return false;
  for (std::size_t i = 0; i < load.send_user_secrets.size(); ++i) {
    const vici::ViciSecret& s = *load.send_user_secrets[i];
    ViciSection body{value("id", s.base_id)};
    body.insert(body.end(), s.body.begin(), s.body.end());
    const ViciSection answer = load.client.call("load-shared", body);
    if (vici::succeeded(answer)) continue;
    diag_.failure("charon refused the EAP secret " + s.base_id + ": " + value_of(answer, "errmsg"));
    for (std::size_t j = 0; j < i; ++j)
      if (load.secrets.count(load.send_user_secrets[j]->base_id) == 0)
        load.client.call("unload-shared", {value("id", load.send_user_secrets[j]->base_id)});
    undo_pools(load, load.send_pools.size());
    return false;
  }
  std::vector<ViciClient::Request> requests;
  std::vector<const Load::Pending*> request_of;
  for (const auto& p : load.pending) {
    if (p.secret_id.empty() || !p.connection->secret) continue;
    ViciSection body{value("id", p.secret_id)};
    const ViciSection& secret = p.connection->secret->body;
    body.insert(body.end(), secret.begin(), secret.end());
    requests.push_back({"load-shared", std::move(body)});
    request_of.push_back(&p);
  }
  for (const auto& p : load.pending) {
    if (!p.send_conn) continue;
    requests.push_back({"load-conn", p.connection->load_conn});
    request_of.push_back(&p);
  }
  const auto answers = load.client.call_batch(requests);
  bool refused = false;
  bool ikev1_noted = false;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    if (vici::succeeded(answers[i])) continue;
    refused = true;
    const ViciConnection& c = *request_of[i]->connection;
    const bool conn = requests[i].command == "load-conn";
    diag_.error_at(c.origin,
                   (conn ? "charon refused the connection " : "charon refused the secret for ") +
                       c.name + ": " + value_of(answers[i], "errmsg"));
    // The cause is not a hint for a terminal only: a charon without IKEv1
    // refuses every rule of an OpenBSD file, and this says what to do.
    if (conn && c.version != IkeVersion::V2 && !ikev1_noted) {
      ikev1_noted = true;
      if (std::string cause = without_ikev1(load.client); !cause.empty()) diag_.note(cause);
    }
  }
  if (!refused) return true;
  std::vector<ViciClient::Request> undo;
  std::set<std::string> remove;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const Load::Pending& p = *request_of[i];
    if (requests[i].command == "load-shared") {
      undo.push_back({"unload-shared", {value("id", p.secret_id)}});
      continue;
    }
    const std::string& name = p.connection->name;
    const OwnedEntry* prev = load.recorded(name);
    std::optional<ViciSection> old;
    if (load.loaded.count(name) != 0 && prev != nullptr) old = vici::load_conn_from_hex(prev->payload);
    if (old) undo.push_back({"load-conn", std::move(*old)});
    else remove.insert(name);
  }
  load.client.call_batch(undo);
  vici::remove_connections(load.client, remove);
  if (load.send_key && !load.key_was_held && !load.key_id.empty())
    load.client.call("unload-key", {value("id", load.key_id)});
  undo_pools(load, load.send_pools.size());
  diag_.failure("charon refused part of the load; what this run had sent to charon was taken back");
  return false;
}

// load-pool, before the connections that name the pools. A pool charon
// refuses stops the load: what this run had sent is taken back.
bool ViciBackend::load_pools(Load& load) {
  for (std::size_t i = 0; i < load.send_pools.size(); ++i) {
    const vici::ViciPool& pool = *load.send_pools[i];
    const ViciSection answer = load.client.call("load-pool", pool.body);
    if (vici::succeeded(answer)) continue;
    diag_.failure("charon refused the address pool " + pool.name + ": " +
                  value_of(answer, "errmsg"));
    undo_pools(load, i);
    return false;
  }
  return true;
}

// The first `count` pools this run sent: each back as recorded, or gone.
void ViciBackend::undo_pools(Load& load, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    const std::string& name = load.send_pools[i]->name;
    auto prev = load.previous_pools.find(name);
    if (load.pools.count(name) != 0 && prev != load.previous_pools.end())
      if (auto old = vici::load_conn_from_hex(prev->second->payload)) {
        load.client.call("load-pool", *old);
        continue;
      }
    load.client.call("unload-pool", {value("name", name)});
  }
}

// load-key, before the connections that sign with it; charon answers
// with the key's id (older ones do not: then it is the id that was not
// there before).
bool ViciBackend::load_private_key(Load& load) {
  const ViciSection answer =
      load.client.call("load-key", {value("type", load.key->type), value("data", load.key->pem)});
  if (!vici::succeeded(answer)) {
    const auto user = std::find_if(load.connections.begin(), load.connections.end(),
                                   [](const ViciConnection& c) { return c.private_key != nullptr; });
    diag_.error_at(user->origin, "charon refused the private key " + load.key->path + ": " +
                                     value_of(answer, "errmsg"));
    diag_.failure("nothing was sent to charon but the refused key");
    return false;
  }
  load.key_id = value_of(answer, "id");
  if (load.key_id.empty()) {
    for (const std::string& id : vici::listed(load.client, "get-keys", "keys"))
      if (load.private_keys.count(id) == 0) load.key_id = id;
  }
  load.key_was_held = load.private_keys.count(load.key_id) != 0;
  return true;
}

void ViciBackend::remove_stale(Load& load) {
  load.stale_keys.erase(load.key_id);  // the same key loaded again
  std::vector<std::string> failures = vici::remove_connections(load.client, load.stale_conns);
  for (auto& f : unload_keys(load.client, load.stale_keys)) failures.push_back(f);
  for (auto& f : vici::unload_secrets(load.client, load.stale_secrets, load.secrets))
    failures.push_back(f);
  for (auto& f : vici::unload_pools(load.client, load.stale_pools, load.pools))
    failures.push_back(f);
  for (const auto& f : failures) diag_.warning("charon could not " + f + " (it left the file)");
}

// Tunnels that are new (or changed) are started once; charon keeps them
// from here on. A changed connection keeps its SAs in charon, so the
// children that left it or changed are terminated here (the changed ones
// start again with their new settings). Unchanged ones are left exactly
// as charon has them, unless they are bound to a `local` address and
// charon holds no IKE SA for them at all: then this load starts them again
// (a standby that has just taken over its failover address reloads to
// start its tunnels at once). Nothing is started from a `local` address
// this host does not have, and what runs from one it no longer has (the
// shared address went to the other gateway of a failover pair) is taken
// down: it cannot work, and left alone it would look up to this host when
// the address comes back.
void ViciBackend::initiate(Load& load) {
  std::vector<ViciClient::Request> now;
  std::vector<std::pair<std::string, ViciClient::Request>> deferred;  // by peer
  std::optional<std::set<std::string>> negotiating;  // asked of charon once, if needed
  for (const auto& p : load.pending) {
    const ViciConnection& c = *p.connection;
    const bool local_here = !c.local || interface_with_address(*c.local).has_value();
    // Nothing is started toward a peer this host has no route to: it
    // could not be reached, and charon 5.9 dies starting an aggressive
    // mode exchange from no address at all (its trap starts the tunnel
    // once traffic finds a route).
    const bool routable = c.local || !c.remote || source_address_for(*c.remote).has_value();
    // By name, without asking first: charon's listing skips an IKE SA
    // that is busy at that moment (a rekey retransmitted from the address
    // that just left, say), and a terminate with nothing to match is
    // harmless.
    if (!local_here)
      now.push_back({"terminate", {value("ike", c.name), value("force", "yes"),
                                   value("timeout", "-1")}});
    // Only a rule bound to a `local` address (a failover pair's shared
    // one) is started again when unchanged: elsewhere charon retries on
    // its own, and a hub's reload must not start every offline branch
    // again (10,000 of them took the unchanged reload from 0.7 to 3.7 s).
    bool down = false;
    if (!p.send_conn && local_here && c.local &&
        std::any_of(c.children.begin(), c.children.end(), [](const auto& k) { return k.start; })) {
      if (!negotiating) negotiating = vici::ike_sa_names(load.client);
      down = negotiating->count(c.name) == 0;
    }
    auto after = children_of(c.load_conn);
    std::map<std::string, std::vector<std::uint8_t>> before;
    const OwnedEntry* prev = load.recorded(c.name);
    const bool had = p.send_conn && load.loaded.count(c.name) != 0 && prev != nullptr;
    if (had)
      if (auto old = vici::load_conn_from_hex(prev->payload)) before = children_of(*old);
    for (const auto& [child, bytes] : before) {
      auto it = after.find(child);
      if (it == after.end() || it->second != bytes)
        now.push_back({"terminate", {value("child", child), value("ike", c.name),
                                     value("timeout", "-1")}});
    }
    for (const auto& child : c.children) {
      if (!child.start) continue;
      started_.push_back({c.name, child.name, c.peer, child.origin, local_here && routable});
      if (!local_here || !routable || (!p.send_conn && !down)) continue;
      auto old = before.find(child.name);
      if (had && old != before.end() && old->second == after[child.name]) continue;
      ViciClient::Request start{"initiate", {value("child", child.name), value("ike", c.name),
                                             value("timeout", "-1")}};
      // The side that yields (see vici_config.h) starts only a connection
      // charon did not have before, and only if the peer stays silent for
      // a moment: the peer that loaded first may have been turned away
      // while this side had no configuration, and charon does not try a
      // refused proposal again. A connection charon already had is left
      // to the peer, or to this side's own traffic (trap): a standby that
      // takes over must not collide with the peer's restart.
      if (!c.defer_start) now.push_back(std::move(start));
      else if (load.loaded.count(c.name) == 0) deferred.emplace_back(c.peer, std::move(start));
    }
  }
  vici::start_tunnels(load.client, std::move(now), std::move(deferred));
}

void ViciBackend::record(const Load& load, OwnedEntries* now) {
  if (now == nullptr) return;
  if (load.key != nullptr && !load.key_id.empty())
    now->add({OwnedKind::ViciKey, load.key_id, load.key->digest, load.key->path});
  for (const vici::ViciPool* pool : load.file_pools)
    now->add({OwnedKind::ViciPool, pool->name, pool->digest, vici::to_hex(vici::encode(pool->body))});
  for (const vici::ViciSecret* s : load.user_secrets)
    now->add({OwnedKind::ViciSecret, s->base_id, s->digest, {}});
  // By base id once: a pass over every secret per connection was
  // quadratic (10,000 rules: seconds).
  std::map<std::string, std::vector<const std::string*>> kept;
  for (const std::string& id : load.keep_secrets) kept[base_of(id)].push_back(&id);
  for (const auto& p : load.pending) {
    const ViciConnection& c = *p.connection;
    now->add({OwnedKind::ViciConnection, c.name, c.digest, vici::to_hex(vici::encode(c.load_conn))});
    if (!c.secret) continue;
    if (auto it = kept.find(c.secret->base_id); it != kept.end())
      for (const std::string* id : it->second)
        now->add({OwnedKind::ViciSecret, *id, c.secret->digest, {}});
  }
}

// By name only: a secret's value is never part of a report.
void ViciBackend::report(const Load& load, bool adding, bool list, BackendChanges& changes) {
  auto note = [&](const char* kind, ChangeVerb verb, const char* entry, const std::string& n) {
    changes.counts[kind].count(verb);
    if (list) changes.entries.push_back({verb, {}, {}, {}, entry, n});
  };
  if (!adding) {
    for (const auto& c : load.connections)
      if (load.loaded.count(c.name) != 0) note(kConnections, ChangeVerb::Remove, "connection", c.name);
    for (const auto& entry : load.previous) {
      const std::string& n = entry.first;
      if (entry.second->kind == OwnedKind::ViciConnection && load.loaded.count(n) != 0 &&
          std::none_of(load.connections.begin(), load.connections.end(),
                       [&](const ViciConnection& c) { return c.name == n; }))
        note(kConnections, ChangeVerb::Remove, "connection", n);
    }
    std::set<std::string> bases;
    for (const auto& c : load.connections)
      if (c.secret) bases.insert(c.secret->base_id);
    for (const vici::ViciSecret* s : load.user_secrets) bases.insert(s->base_id);
    for (const std::string& id : load.secrets)
      if (bases.count(base_of(id)) != 0 || load.previous.count(id) != 0)
        note(kSecrets, ChangeVerb::Remove, "secret", id);
    for (const auto& [id, e] : load.previous_keys)
      if (load.claimed_keys.count(id) == 0 && load.private_keys.count(id) != 0)
        note(kKeys, ChangeVerb::Remove, "key", e->payload);
    std::set<std::string> pools;
    for (const vici::ViciPool* pool : load.file_pools) pools.insert(pool->name);
    for (const auto& [name, e] : load.previous_pools)
      if (load.claimed_pools.count(name) == 0) pools.insert(name);
    for (const std::string& name : pools)
      if (load.pools.count(name) != 0) note(kPools, ChangeVerb::Remove, "pool", name);
    return;
  }
  for (const vici::ViciSecret* s : load.user_secrets) {
    if (std::find(load.send_user_secrets.begin(), load.send_user_secrets.end(), s) ==
        load.send_user_secrets.end())
      ++changes.counts[kSecrets].unchanged;
    else
      note(kSecrets, load.secrets.count(s->base_id) != 0 ? ChangeVerb::Change : ChangeVerb::Add,
           "secret", s->base_id);
  }
  for (const vici::ViciPool* pool : load.file_pools) {
    if (std::find(load.send_pools.begin(), load.send_pools.end(), pool) == load.send_pools.end())
      ++changes.counts[kPools].unchanged;
    else
      note(kPools, load.pools.count(pool->name) != 0 ? ChangeVerb::Change : ChangeVerb::Add,
           "pool", pool->name);
  }
  for (const std::string& name : load.stale_pools) note(kPools, ChangeVerb::Remove, "pool", name);
  if (load.key != nullptr) {
    if (!load.send_key) ++changes.counts[kKeys].unchanged;
    else note(kKeys, load.stale_keys.empty() ? ChangeVerb::Add : ChangeVerb::Change, "key",
              load.key->path);
  }
  // A stale key that this run's replaces is that change.
  if (load.key == nullptr || !load.send_key)
    for (const std::string& id : load.stale_keys)
      note(kKeys, ChangeVerb::Remove, "key", load.previous_keys.at(id)->payload);
  std::set<std::string> held_bases;  // of the secrets charon holds
  for (const std::string& id : load.secrets) held_bases.insert(base_of(id));
  for (const auto& p : load.pending) {
    const ViciConnection& c = *p.connection;
    if (p.send_conn)
      note(kConnections, load.loaded.count(c.name) != 0 ? ChangeVerb::Change : ChangeVerb::Add,
           "connection", c.name);
    else
      ++changes.counts[kConnections].unchanged;
    if (!c.secret) continue;
    if (p.secret_id.empty()) {
      ++changes.counts[kSecrets].unchanged;
      continue;
    }
    note(kSecrets, held_bases.count(c.secret->base_id) != 0 ? ChangeVerb::Change : ChangeVerb::Add,
         "secret", p.secret_id);
  }
  for (const auto& n : load.stale_conns) note(kConnections, ChangeVerb::Remove, "connection", n);
  std::set<std::string> sent_bases;
  for (const auto& p : load.pending)
    if (!p.secret_id.empty()) sent_bases.insert(base_of(p.secret_id));
  for (const auto& n : load.stale_secrets)
    // The old generation of a changed secret is that change, not a removal.
    if (sent_bases.count(base_of(n)) == 0) note(kSecrets, ChangeVerb::Remove, "secret", n);
}

bool ViciBackend::remove_owned(const OwnedEntries& owned) {
  try {
    ViciClient client(path_);
    const std::set<std::string> loaded = vici::listed(client, "get-conns", "conns");
    const std::set<std::string> secrets = vici::listed(client, "get-shared", "keys");
    std::set<std::string> present, ids;
    for (const OwnedEntry* e : owned.of(OwnedKind::ViciConnection))
      if (loaded.count(e->key) != 0) present.insert(e->key);
    for (const OwnedEntry* e : owned.of(OwnedKind::ViciSecret)) ids.insert(e->key);
    std::vector<std::string> failures = vici::remove_connections(client, present);
    for (auto& f : vici::unload_secrets(client, ids, secrets)) failures.push_back(f);
    if (!owned.of(OwnedKind::ViciKey).empty()) {
      const std::set<std::string> held = vici::listed(client, "get-keys", "keys");
      std::set<std::string> private_keys;
      for (const OwnedEntry* e : owned.of(OwnedKind::ViciKey))
        if (held.count(e->key) != 0) private_keys.insert(e->key);
      for (auto& f : unload_keys(client, private_keys)) failures.push_back(f);
    }
    if (!owned.of(OwnedKind::ViciPool).empty()) {
      std::set<std::string> names;
      for (const OwnedEntry* e : owned.of(OwnedKind::ViciPool)) names.insert(e->key);
      for (auto& f : vici::unload_pools(client, names, vici::sections_of(client, "get-pools")))
        failures.push_back(f);
    }
    for (const auto& f : failures) diag_.failure("charon could not " + f);
    return failures.empty();
  } catch (const ViciError& error) {
    diag_.failure(error.what());
    return false;
  }
}

}  // namespace ipsecctl::backends
