#include "backends/vici/vici_backend.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <thread>

#include "backends/host_routes.h"
#include "backends/vici/vici_client.h"
#include "backends/vici/vici_config.h"

namespace ipsecctl::backends {

using vici::ViciClient;
using vici::ViciConnection;
using vici::ViciError;
using vici::ViciItem;
using vici::ViciSection;
using vici::value;
using vici::value_of;

namespace {

bool succeeded(const ViciSection& reply) { return value_of(reply, "success") == "yes"; }

std::string to_hex(const std::vector<std::uint8_t>& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> from_hex(const std::string& text) {
  if (text.size() % 2 != 0) return std::nullopt;
  std::vector<std::uint8_t> out;
  out.reserve(text.size() / 2);
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < text.size(); i += 2) {
    int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
  }
  return out;
}

std::set<std::string> listed(ViciClient& client, const char* command, const char* key) {
  ViciSection reply = client.call(command, {});
  std::set<std::string> out;
  if (const ViciItem* names = vici::find(reply, key)) out.insert(names->list.begin(), names->list.end());
  return out;
}

// Terminates a connection's IKE SAs (sending the peer a delete, not
// waiting for its answer: it may be gone), before it is unloaded. Done
// when the request returns, so that nothing of it is left when ipsecctl
// exits.
ViciClient::Request terminate_request(const std::string& name) {
  return {"terminate", {value("ike", name), value("force", "yes"), value("timeout", "5000")}};
}

// Takes connections out of charon: unloaded first, so that no new
// negotiation can find them (a peer whose tunnel is deleted may start
// again at once), then their IKE SAs terminated, again while one that was
// already negotiating completes. Returns the failures.
std::vector<std::string> remove_connections(ViciClient& client, const std::set<std::string>& names) {
  std::vector<std::string> failures;
  if (names.empty()) return failures;
  std::vector<ViciClient::Request> unloads;
  for (const auto& name : names) unloads.push_back({"unload-conn", {value("name", name)}});
  const auto answers = client.call_batch(unloads);
  for (std::size_t i = 0; i < answers.size(); ++i)
    if (!succeeded(answers[i]))
      failures.push_back("unload-conn " + value_of(unloads[i].message, "name") + ": " +
                         value_of(answers[i], "errmsg"));
  for (int round = 0; round < 4; ++round) {
    std::set<std::string> alive;
    client.call_streaming("list-sas", {value("noblock", "yes")}, "list-sa",
                          [&](const ViciSection& event) {
                            for (const ViciItem& sa : event)
                              if (names.count(sa.name) != 0) alive.insert(sa.name);
                          });
    if (alive.empty()) break;
    if (round != 0) std::this_thread::sleep_for(std::chrono::milliseconds(250));
    std::vector<ViciClient::Request> terminations;
    for (const auto& name : alive) terminations.push_back(terminate_request(name));
    client.call_batch(terminations);
  }
  return failures;
}

// The higher address of a pair starts its tunnels only if, within a
// moment, the peer has not begun an IKE SA with it: when both gateways are
// loaded at once, only the lower one starts, and IKEv1 gets one IKE SA and
// one pair of child SAs instead of two. The peer shows up in charon's list
// at its first message (by address: its connection name comes later).
void start_unless_peer_does(ViciClient& client,
                            std::vector<std::pair<std::string, ViciClient::Request>> deferred) {
  constexpr auto kMoment = std::chrono::milliseconds(3000);
  const auto until = std::chrono::steady_clock::now() + kMoment;
  while (!deferred.empty() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::set<std::string> talking;
    client.call_streaming("list-sas", {value("noblock", "yes")}, "list-sa",
                          [&](const ViciSection& event) {
                            for (const ViciItem& sa : event)
                              talking.insert(value_of(sa.section, "remote-host"));
                          });
    std::erase_if(deferred, [&](const auto& d) { return talking.count(d.first) != 0; });
  }
  std::vector<ViciClient::Request> starts;
  for (auto& d : deferred) starts.push_back(std::move(d.second));
  client.call_batch(starts);
}

// "name#N" -> N (1 without a suffix).
unsigned generation_of(const std::string& id, const std::string& base) {
  if (id == base) return 1;
  if (id.size() > base.size() + 1 && id.compare(0, base.size(), base) == 0 && id[base.size()] == '#')
    return static_cast<unsigned>(std::strtoul(id.c_str() + base.size() + 1, nullptr, 10));
  return 0;
}

std::set<std::string> keys_of(const OwnedEntries* entries, OwnedKind kind) {
  std::set<std::string> out;
  if (entries != nullptr)
    for (const OwnedEntry* e : entries->of(kind)) out.insert(e->key);
  return out;
}

}  // namespace

bool ViciBackend::present(const std::string& socket_path) {
  return ViciClient::reachable(socket_path);
}

bool ViciBackend::apply(const compiler::Plan& plan, Action action, const SyncScope& scope) {
  started_.clear();
  const bool has_previous = scope.previous != nullptr &&
                            (!scope.previous->of(OwnedKind::ViciConnection).empty() ||
                             !scope.previous->of(OwnedKind::ViciSecret).empty());
  if (plan.ikes.empty() && !has_previous) return true;
  auto connections = vici::translate(plan, diag_, source_address_for);
  if (!connections) {
    diag_.note("strongSwan cannot express these rules; nothing was sent to charon");
    return false;
  }
  try {
    ViciClient client(path_);
    const std::set<std::string> loaded = listed(client, "get-conns", "conns");
    const std::set<std::string> secrets = listed(client, "get-shared", "keys");
    std::map<std::string, const OwnedEntry*> previous;  // by connection or secret name
    if (scope.previous != nullptr)
      for (const OwnedEntry& e : scope.previous->entries)
        if (e.kind == OwnedKind::ViciConnection || e.kind == OwnedKind::ViciSecret)
          previous.emplace(e.key, &e);
    const std::set<std::string> claimed_conns = keys_of(scope.others, OwnedKind::ViciConnection);
    const std::set<std::string> claimed_secrets = keys_of(scope.others, OwnedKind::ViciSecret);

    // -d: the file's connections and secrets, and whatever an earlier
    // load of it left.
    if (action == Action::Delete) {
      std::set<std::string> conns, keys;
      for (const auto& c : *connections) conns.insert(c.name);
      for (const auto& [name, e] : previous)
        (e->kind == OwnedKind::ViciConnection ? conns : keys).insert(name);
      std::set<std::string> bases;
      for (const auto& c : *connections)
        if (c.secret) bases.insert(c.secret->base_id);
      for (const std::string& id : secrets)
        if (bases.count(id.substr(0, id.find('#'))) != 0) keys.insert(id);
      std::set<std::string> present;
      for (const auto& name : conns)
        if (loaded.count(name) != 0) present.insert(name);
      std::vector<std::string> failures = remove_connections(client, present);
      std::vector<ViciClient::Request> requests;
      for (const auto& id : keys)
        if (secrets.count(id) != 0) requests.push_back({"unload-shared", {value("id", id)}});
      const auto answers = client.call_batch(requests);
      for (std::size_t i = 0; i < answers.size(); ++i)
        if (!succeeded(answers[i]))
          failures.push_back("unload-shared " + value_of(requests[i].message, "id") + ": " +
                             value_of(answers[i], "errmsg"));
      for (const auto& f : failures) diag_.note("charon could not " + f);
      return failures.empty();
    }

    // What must be sent: connections charon lacks or holds otherwise than
    // this file had it, secrets that are new or changed.
    struct Pending {
      const ViciConnection* connection;
      std::string secret_id;  // empty: no secret, or charon has it already
      bool send_conn = false;
    };
    // Secret ids by their base ("ipsecctl-peer-X" of "ipsecctl-peer-X#2"):
    // the record's, with their digests, and charon's.
    auto base_of = [](const std::string& id) { return id.substr(0, id.find('#')); };
    std::map<std::string, std::vector<const OwnedEntry*>> recorded_secrets;
    for (const auto& [name, e] : previous)
      if (e->kind == OwnedKind::ViciSecret) recorded_secrets[base_of(name)].push_back(e);
    std::map<std::string, std::vector<std::string>> charon_secrets;
    for (const std::string& id : secrets) charon_secrets[base_of(id)].push_back(id);

    std::vector<Pending> pending;
    std::set<std::string> keep_secrets;
    for (const ViciConnection& c : *connections) {
      Pending p{&c, {}, false};
      auto prev = previous.find(c.name);
      p.send_conn = loaded.count(c.name) == 0 || prev == previous.end() ||
                    prev->second->digest != c.digest;
      if (c.secret) {
        // The secret this file loaded last time, if charon still has it
        // unchanged; otherwise the next generation.
        unsigned newest = 0;
        std::string reuse;
        if (auto r = recorded_secrets.find(c.secret->base_id); r != recorded_secrets.end())
          for (const OwnedEntry* e : r->second) {
            unsigned g = generation_of(e->key, c.secret->base_id);
            if (g == 0) continue;
            newest = std::max(newest, g);
            if (e->digest == c.secret->digest && secrets.count(e->key) != 0) reuse = e->key;
          }
        if (auto h = charon_secrets.find(c.secret->base_id); h != charon_secrets.end())
          for (const std::string& id : h->second)
            newest = std::max(newest, generation_of(id, c.secret->base_id));
        if (!reuse.empty()) {
          keep_secrets.insert(reuse);
        } else {
          p.secret_id = newest == 0 ? c.secret->base_id
                                    : c.secret->base_id + "#" + std::to_string(newest + 1);
          keep_secrets.insert(p.secret_id);
        }
      }
      pending.push_back(std::move(p));
    }

    std::vector<ViciClient::Request> requests;
    std::vector<const Pending*> request_of;
    for (const Pending& p : pending) {
      if (p.secret_id.empty()) continue;
      ViciSection body = p.connection->secret->body;
      body.insert(body.begin(), value("id", p.secret_id));
      requests.push_back({"load-shared", std::move(body)});
      request_of.push_back(&p);
    }
    for (const Pending& p : pending) {
      if (!p.send_conn) continue;
      requests.push_back({"load-conn", p.connection->load_conn});
      request_of.push_back(&p);
    }
    const auto answers = client.call_batch(requests);
    bool refused = false;
    for (std::size_t i = 0; i < answers.size(); ++i) {
      if (succeeded(answers[i])) continue;
      refused = true;
      const ViciConnection& c = *request_of[i]->connection;
      diag_.error_at(c.origin, (requests[i].command == "load-shared"
                                    ? "charon refused the secret for " + c.name
                                    : "charon refused the connection " + c.name) +
                                   ": " + value_of(answers[i], "errmsg"));
    }
    if (refused) {
      // Back to what charon held: unload what was new, restore what was
      // replaced (from the record), drop the secrets this run added.
      std::vector<ViciClient::Request> undo;
      std::set<std::string> remove;
      for (std::size_t i = 0; i < answers.size(); ++i) {
        const Pending& p = *request_of[i];
        if (requests[i].command == "load-shared") {
          undo.push_back({"unload-shared", {value("id", p.secret_id)}});
          continue;
        }
        const std::string& name = p.connection->name;
        auto prev = previous.find(name);
        std::optional<std::vector<std::uint8_t>> old;
        if (loaded.count(name) != 0 && prev != previous.end()) old = from_hex(prev->second->payload);
        if (old) {
          try {
            undo.push_back({"load-conn", vici::decode(old->data(), old->size())});
            continue;
          } catch (const ViciError&) {
          }
        }
        remove.insert(name);
      }
      client.call_batch(undo);
      remove_connections(client, remove);
      diag_.note("charon refused part of the load; what this run had sent to charon was taken back");
      return false;
    }

    // What an earlier load of the file added and the file no longer has.
    std::vector<ViciClient::Request> stale;
    std::set<std::string> names, stale_conns;
    for (const auto& c : *connections) names.insert(c.name);
    for (const auto& [name, e] : previous) {
      if (e->kind == OwnedKind::ViciConnection) {
        if (names.count(name) == 0 && claimed_conns.count(name) == 0 && loaded.count(name) != 0)
          stale_conns.insert(name);
      } else if (keep_secrets.count(name) == 0 && claimed_secrets.count(name) == 0 &&
                 secrets.count(name) != 0) {
        stale.push_back({"unload-shared", {value("id", name)}});
      }
    }
    std::vector<std::string> stale_failures = remove_connections(client, stale_conns);
    const auto stale_answers = client.call_batch(stale);
    for (std::size_t i = 0; i < stale_answers.size(); ++i)
      if (!succeeded(stale_answers[i]))
        stale_failures.push_back("unload-shared " + value_of(stale[i].message, "id") + ": " +
                                 value_of(stale_answers[i], "errmsg"));
    for (const auto& f : stale_failures)
      diag_.warning("charon could not " + f + " (it left the file)");

    // Tunnels that are new (or changed) are started once; charon keeps
    // them from here on. A changed connection keeps its SAs in charon, so
    // the children that left it or changed are terminated here (the
    // changed ones start again with their new settings). Unchanged ones
    // are left exactly as charon has them.
    std::vector<ViciClient::Request> starts;
    std::vector<std::pair<std::string, ViciClient::Request>> deferred;  // by peer
    for (const Pending& p : pending) {
      const ViciConnection& c = *p.connection;
      std::map<std::string, std::vector<std::uint8_t>> before, after;
      auto children_of = [](const ViciSection& load_conn, auto& out) {
        if (load_conn.empty()) return;
        const ViciItem* children = vici::find(load_conn.front().section, "children");
        if (children == nullptr) return;
        for (const ViciItem& child : children->section) out[child.name] = vici::encode(child.section);
      };
      children_of(c.load_conn, after);
      auto prev = previous.find(c.name);
      const bool had = p.send_conn && loaded.count(c.name) != 0 && prev != previous.end();
      if (had)
        if (auto bytes = from_hex(prev->second->payload)) {
          try {
            children_of(vici::decode(bytes->data(), bytes->size()), before);
          } catch (const ViciError&) {
          }
        }
      for (const auto& [name, bytes] : before) {
        auto now = after.find(name);
        if (now == after.end() || now->second != bytes)
          starts.push_back({"terminate", {value("child", name), value("ike", c.name),
                                          value("timeout", "-1")}});
      }
      for (const auto& child : c.children) {
        if (!child.start) continue;
        started_.push_back({c.name, child.name, c.peer, child.origin});
        if (!p.send_conn) continue;
        auto old = before.find(child.name);
        if (had && old != before.end() && old->second == after[child.name]) continue;
        ViciClient::Request start{"initiate", {value("child", child.name), value("ike", c.name),
                                               value("timeout", "-1")}};
        if (c.defer_start) deferred.emplace_back(c.peer, std::move(start));
        else starts.push_back(std::move(start));
      }
    }
    client.call_batch(starts);
    start_unless_peer_does(client, std::move(deferred));

    if (scope.now != nullptr) {
      for (const Pending& p : pending) {
        const ViciConnection& c = *p.connection;
        scope.now->add({OwnedKind::ViciConnection, c.name, c.digest, to_hex(vici::encode(c.load_conn))});
      }
      std::map<std::string, std::vector<std::string>> kept;  // by base
      for (const std::string& id : keep_secrets) kept[base_of(id)].push_back(id);
      for (const Pending& p : pending)
        if (p.connection->secret)
          if (auto k = kept.find(p.connection->secret->base_id); k != kept.end())
            for (const std::string& id : k->second)
              scope.now->add({OwnedKind::ViciSecret, id, p.connection->secret->digest, {}});
    }
    return true;
  } catch (const ViciError& error) {
    diag_.note(error.what());
    return false;
  }
}

bool ViciBackend::remove_owned(const OwnedEntries& owned) {
  try {
    ViciClient client(path_);
    const std::set<std::string> loaded = listed(client, "get-conns", "conns");
    const std::set<std::string> secrets = listed(client, "get-shared", "keys");
    std::set<std::string> present;
    for (const OwnedEntry* e : owned.of(OwnedKind::ViciConnection))
      if (loaded.count(e->key) != 0) present.insert(e->key);
    std::vector<std::string> failures = remove_connections(client, present);
    std::vector<ViciClient::Request> requests;
    for (const OwnedEntry* e : owned.of(OwnedKind::ViciSecret))
      if (secrets.count(e->key) != 0) requests.push_back({"unload-shared", {value("id", e->key)}});
    const auto answers = client.call_batch(requests);
    for (std::size_t i = 0; i < answers.size(); ++i)
      if (!succeeded(answers[i]))
        failures.push_back("unload-shared " + value_of(requests[i].message, "id") + ": " +
                           value_of(answers[i], "errmsg"));
    for (const auto& f : failures) diag_.note("charon could not " + f);
    return failures.empty();
  } catch (const ViciError& error) {
    diag_.note(error.what());
    return false;
  }
}

void ViciBackend::listen_before_apply() {
  try {
    log_ = std::make_unique<ViciClient>(path_);
    log_->subscribe("log");
  } catch (const ViciError&) {
    log_.reset();  // apply() reports charon's absence
  }
}

bool ViciBackend::wait_for_tunnels(std::chrono::seconds patience) {
  if (started_.empty()) return true;
  const auto deadline = std::chrono::steady_clock::now() + patience;
  try {
    // charon's own account of each connection, from its log (heard since
    // before the load), to say why a tunnel is not up.
    if (!log_) listen_before_apply();
    if (!log_) throw ViciError("cannot listen to charon's log at " + path_);
    ViciClient& logs = *log_;
    std::map<std::string, std::deque<std::string>> said;  // by IKE SA name
    ViciClient client(path_);
    std::set<std::pair<std::string, std::string>> up;
    for (;;) {
      up.clear();
      client.call_streaming("list-sas", {value("noblock", "yes")}, "list-sa",
                            [&](const ViciSection& event) {
        for (const ViciItem& sa : event) {
          if (value_of(sa.section, "state") != "ESTABLISHED") continue;
          const ViciItem* children = vici::find(sa.section, "child-sas");
          if (children == nullptr) continue;
          for (const ViciItem& c : children->section)
            if (value_of(c.section, "state") == "INSTALLED")
              up.emplace(sa.name, value_of(c.section, "name"));
        }
      });
      const bool all = std::all_of(started_.begin(), started_.end(), [&](const Started& s) {
        return up.count({s.connection, s.child}) != 0;
      });
      if (all) return true;
      if (std::chrono::steady_clock::now() >= deadline) break;
      const auto until = std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(500));
      while (auto event = logs.next_event(until)) {
        const std::string ike = value_of(event->second, "ikesa-name");
        const std::string msg = value_of(event->second, "msg");
        if (ike.empty() || msg.empty()) continue;
        auto& lines = said[ike];
        lines.push_back(msg);
        if (lines.size() > 6) lines.pop_front();
      }
    }
    for (const Started& s : started_) {
      if (up.count({s.connection, s.child}) != 0) continue;
      diag_.error_at(s.origin, "tunnel " + s.child + " to " + s.peer + " is not up after " +
                                   std::to_string(patience.count()) +
                                   " s; it stays loaded and charon keeps trying");
      auto it = said.find(s.connection);
      if (it == said.end() || it->second.empty()) {
        diag_.plain("\tcharon: (nothing logged for " + s.connection +
                    " while waiting: the peer does not answer, or no traffic asked for the tunnel)");
        continue;
      }
      for (const std::string& line : it->second) diag_.plain("\tcharon: " + line);
    }
    return false;
  } catch (const ViciError& error) {
    diag_.note(error.what());
    return false;
  }
}

std::optional<IkeSnapshot> ViciBackend::ike_sas() {
  auto number = [](const std::string& text) -> std::uint64_t {
    return text.empty() ? 0 : std::strtoull(text.c_str(), nullptr, 10);
  };
  auto algorithm = [](const ViciSection& s, const char* name, const char* size) {
    std::string a = value_of(s, name);
    if (!value_of(s, size).empty()) a += "-" + value_of(s, size);
    return a;
  };
  try {
    ViciClient client(path_);
    IkeSnapshot snap;
    snap.daemon = "charon";
    client.call_streaming("list-sas", {value("noblock", "yes")}, "list-sa",
                          [&](const ViciSection& event) {
      for (const ViciItem& ike : event) {
        const ViciSection& s = ike.section;
        IkeSa sa;
        sa.name = ike.name;
        sa.unique_id = value_of(s, "uniqueid");
        sa.state = value_of(s, "state");
        sa.version = value_of(s, "version");
        sa.local_host = value_of(s, "local-host");
        sa.remote_host = value_of(s, "remote-host");
        sa.local_id = value_of(s, "local-id");
        sa.remote_id = value_of(s, "remote-id");
        sa.encryption = algorithm(s, "encr-alg", "encr-keysize");
        sa.integrity = value_of(s, "integ-alg");
        sa.prf = value_of(s, "prf-alg");
        sa.dh_group = value_of(s, "dh-group");
        sa.established = number(value_of(s, "established"));
        sa.rekey_time = number(value_of(s, "rekey-time"));
        sa.reauth_time = number(value_of(s, "reauth-time"));
        if (const ViciItem* children = vici::find(s, "child-sas")) {
          for (const ViciItem& c : children->section) {
            const ViciSection& cs = c.section;
            IkeChildSa child;
            child.name = value_of(cs, "name");
            child.state = value_of(cs, "state");
            child.mode = value_of(cs, "mode");
            child.protocol = value_of(cs, "protocol");
            child.reqid = static_cast<std::uint32_t>(number(value_of(cs, "reqid")));
            child.encryption = algorithm(cs, "encr-alg", "encr-keysize");
            child.integrity = value_of(cs, "integ-alg");
            child.dh_group = value_of(cs, "dh-group");
            child.spi_in = value_of(cs, "spi-in");
            child.spi_out = value_of(cs, "spi-out");
            child.bytes_in = number(value_of(cs, "bytes-in"));
            child.bytes_out = number(value_of(cs, "bytes-out"));
            child.packets_in = number(value_of(cs, "packets-in"));
            child.packets_out = number(value_of(cs, "packets-out"));
            child.install_time = number(value_of(cs, "install-time"));
            child.rekey_time = number(value_of(cs, "rekey-time"));
            child.life_time = number(value_of(cs, "life-time"));
            if (const ViciItem* l = vici::find(cs, "local-ts")) child.local_ts = l->list;
            if (const ViciItem* l = vici::find(cs, "remote-ts")) child.remote_ts = l->list;
            sa.children.push_back(std::move(child));
          }
        }
        snap.sas.push_back(std::move(sa));
      }
    });
    return snap;
  } catch (const ViciError& error) {
    diag_.note(error.what());
    return std::nullopt;
  }
}

}  // namespace ipsecctl::backends
