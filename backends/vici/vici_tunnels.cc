// What charon says of the tunnels: its IKE SAs (-s all), and whether the
// tunnels of the last load came up (--wait), with its own log lines when
// they did not.
#include <algorithm>
#include <cstdlib>
#include <deque>
#include <map>
#include <set>

#include "backends/vici/vici_backend.h"
#include "backends/vici/vici_charon.h"

namespace ipsecctl::backends {

using vici::ViciClient;
using vici::ViciError;
using vici::ViciItem;
using vici::ViciSection;
using vici::value;
using vici::value_of;

void ViciBackend::listen_before_apply() {
  try {
    log_ = std::make_unique<ViciClient>(path_);
    log_->subscribe("log");
  } catch (const ViciError&) {
    log_.reset();  // apply() reports charon's absence
  }
}

namespace {

// What charon said of one IKE SA name: during the try going on, and during
// the last one that ended before --wait asked again.
struct Tries {
  std::deque<std::string> now, before;
};

// The started children that are up (IKE SA established, child installed),
// and the IKE SA names charon holds in any state.
void list_tunnels(ViciClient& client, std::set<std::pair<std::string, std::string>>& up,
                  std::set<std::string>& negotiating) {
  up.clear();
  negotiating.clear();
  client.call_streaming("list-sas", {}, "list-sa", [&](const ViciSection& event) {
    for (const ViciItem& sa : event) {
      negotiating.insert(sa.name);
      if (value_of(sa.section, "state") != "ESTABLISHED") continue;
      const ViciItem* children = vici::find(sa.section, "child-sas");
      if (children == nullptr) continue;
      for (const ViciItem& c : children->section)
        if (value_of(c.section, "state") == "INSTALLED")
          up.emplace(sa.name, value_of(c.section, "name"));
    }
  });
}

// The lines that explain why a connection is down: a try still going on
// has not said how it ends, the last one that ended has. Null: none.
const std::deque<std::string>* account_of(const std::map<std::string, Tries>& said,
                                          const std::string& connection, bool going_on) {
  auto it = said.find(connection);
  if (it == said.end()) return nullptr;
  const Tries& t = it->second;
  return (going_on && !t.before.empty()) || t.now.empty() ? &t.before : &t.now;
}

}  // namespace

bool ViciBackend::wait_for_tunnels(std::chrono::seconds patience) {
  if (started_.empty()) return true;
  const auto deadline = std::chrono::steady_clock::now() + patience;
  try {
    // charon's own account of each connection, from its log (heard since
    // before the load), to say why a tunnel is not up.
    if (!log_) listen_before_apply();
    if (!log_) throw ViciError("cannot listen to charon's log at " + path_);
    ViciClient& logs = *log_;
    std::map<std::string, Tries> said;  // by IKE SA name
    auto hear = [&](std::chrono::steady_clock::time_point until) {
      while (auto event = logs.next_event(until)) {
        const std::string ike = value_of(event->second, "ikesa-name");
        const std::string msg = value_of(event->second, "msg");
        if (ike.empty() || msg.empty()) continue;
        auto& lines = said[ike].now;
        lines.push_back(msg);
        if (lines.size() > 6) lines.pop_front();
      }
    };
    ViciClient client(path_);
    std::set<std::pair<std::string, std::string>> up;
    std::set<std::string> negotiating;  // connections with an IKE SA in any state
    // When each started tunnel was last asked for: at the load.
    std::map<std::pair<std::string, std::string>, std::chrono::steady_clock::time_point> asked;
    for (const Started& s : started_) asked[{s.connection, s.child}] = std::chrono::steady_clock::now();
    for (;;) {
      list_tunnels(client, up, negotiating);
      const bool all = std::all_of(started_.begin(), started_.end(), [&](const Started& s) {
        return up.count({s.connection, s.child}) != 0;
      });
      if (all) return true;
      if (std::chrono::steady_clock::now() >= deadline) break;
      // What charon has said by now belongs to the tries that ended.
      hear(std::chrono::steady_clock::now() + std::chrono::milliseconds(5));
      for (const std::string& again : retry_refused(client, up, negotiating, asked)) {
        Tries& t = said[again];
        if (!t.now.empty()) t.before = std::move(t.now);
        t.now.clear();
      }
      hear(std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(500)));
    }
    for (const Started& s : started_) {
      if (up.count({s.connection, s.child}) != 0) continue;
      diag_.error_at(s.origin, "tunnel " + s.child + " to " + s.peer + " is not up after " +
                                   std::to_string(patience.count()) +
                                   " s; it stays loaded: charon tries again when traffic asks "
                                   "for it, and keeps trying a peer that does not answer");
      const auto* lines = account_of(said, s.connection, negotiating.count(s.connection) != 0);
      if (lines == nullptr || lines->empty()) {
        diag_.plain("\tcharon: (nothing logged for " + s.connection +
                    " while waiting: the peer does not answer, or no traffic asked for the tunnel)");
        continue;
      }
      for (const std::string& line : *lines) diag_.plain("\tcharon: " + line);
    }
    return false;
  } catch (const ViciError& error) {
    diag_.failure(error.what());
    return false;
  }
}

// An active tunnel the peer turned away (it had no configuration for it
// yet: two gateways rolled out at the same moment) is given up by charon,
// which tries a refused proposal again only when the kernel next asks for
// the tunnel, some 30 s on. iked keeps trying an active policy; while
// --wait waits, so does this: a started tunnel of which charon holds no
// IKE SA at all is asked for again every few seconds.
std::set<std::string> ViciBackend::retry_refused(
    ViciClient& client, const std::set<std::pair<std::string, std::string>>& up,
    const std::set<std::string>& negotiating,
    std::map<std::pair<std::string, std::string>, std::chrono::steady_clock::time_point>& asked) {
  constexpr auto kRetry = std::chrono::seconds(3);
  const auto now = std::chrono::steady_clock::now();
  std::vector<ViciClient::Request> starts;
  std::set<std::string> again;
  for (const Started& s : started_) {
    const std::pair<std::string, std::string> key{s.connection, s.child};
    if (!s.may_start || up.count(key) != 0 || negotiating.count(s.connection) != 0) continue;
    auto& last = asked[key];
    if (now - last < kRetry) continue;
    last = now;
    starts.push_back({"initiate", {value("child", s.child), value("ike", s.connection),
                                   value("timeout", "-1")}});
    again.insert(s.connection);
  }
  client.call_batch(starts);
  return again;
}

namespace {

std::uint64_t number(const std::string& text) {
  return text.empty() ? 0 : std::strtoull(text.c_str(), nullptr, 10);
}

// "aes-256" from encr-alg and encr-keysize.
std::string algorithm(const ViciSection& s, const char* name, const char* size) {
  std::string a = value_of(s, name);
  if (!value_of(s, size).empty()) a += "-" + value_of(s, size);
  return a;
}

IkeChildSa child_sa_of(const ViciSection& cs) {
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
  return child;
}

IkeSa ike_sa_of(const ViciItem& ike) {
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
  if (const ViciItem* children = vici::find(s, "child-sas"))
    for (const ViciItem& c : children->section) sa.children.push_back(child_sa_of(c.section));
  return sa;
}

}  // namespace

std::optional<IkeSnapshot> ViciBackend::ike_sas() {
  try {
    ViciClient client(path_);
    IkeSnapshot snap;
    snap.daemon = "charon";
    for (const auto& name : vici::listed(client, "get-conns", "conns")) snap.connections.push_back(name);
    client.call_streaming("list-sas", {}, "list-sa",
                          [&](const ViciSection& event) {
                            for (const ViciItem& ike : event) snap.sas.push_back(ike_sa_of(ike));
                          });
    // How each connection checks its peer (list-sas does not say):
    // "public key", "pre-shared key", as list-conns names the class.
    std::map<std::string, std::string> auth;
    client.call_streaming("list-conns", {}, "list-conn", [&](const ViciSection& event) {
      for (const ViciItem& conn : event) {
        if (conn.kind != ViciItem::Kind::Section) continue;
        for (const ViciItem& part : conn.section)
          if (part.kind == ViciItem::Kind::Section && part.name.rfind("remote", 0) == 0)
            if (const std::string c = value_of(part.section, "class"); !c.empty() && auth[conn.name].empty())
              auth[conn.name] = c == "public key" ? "pubkey" : c == "pre-shared key" ? "psk" : c;
      }
    });
    for (IkeSa& sa : snap.sas)
      if (auto it = auth.find(sa.name); it != auth.end()) sa.auth = it->second;
    return snap;
  } catch (const ViciError& error) {
    diag_.failure(error.what());
    return std::nullopt;
  }
}

}  // namespace ipsecctl::backends
