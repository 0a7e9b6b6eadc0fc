#include "backends/vici/vici_backend.h"

#include <algorithm>
#include <set>
#include <thread>

#include "backends/vici/vici_client.h"
#include "backends/vici/vici_config.h"

namespace ipsecctl::backends {

using vici::ViciClient;
using vici::ViciError;
using vici::ViciItem;
using vici::ViciSection;
using vici::list;
using vici::value;
using vici::value_of;

namespace {

constexpr int kInitiateTimeoutMs = 15000;

bool succeeded(const ViciSection& reply) { return value_of(reply, "success") == "yes"; }

// Takes a connection and its secret away; missing ones are fine.
void remove_connection(ViciClient& client, const vici::ViciConnection& c) {
  try {
    client.call("terminate", {value("ike", c.name), value("timeout", "3000"),
                              value("force", "yes")});
  } catch (const ViciError&) {
  }
  client.call("unload-conn", {value("name", c.name)});
  if (c.has_secret) client.call("unload-shared", {value("id", c.secret_id)});
}

// Whether an IKE SA of this connection already carries this child.
bool child_installed(ViciClient& client, const std::string& ike, const std::string& child) {
  bool found = false;
  client.call_streaming("list-sas", {value("ike", ike), value("noblock", "yes")}, "list-sa",
                        [&](const ViciSection& event) {
                          for (const ViciItem& sa : event) {
                            const vici::ViciItem* children = vici::find(sa.section, "child-sas");
                            if (children == nullptr) continue;
                            for (const ViciItem& c : children->section)
                              if (value_of(c.section, "name") == child &&
                                  value_of(c.section, "state") == "INSTALLED")
                                found = true;
                          }
                        });
  return found;
}

}  // namespace

bool ViciBackend::present(const std::string& socket_path) {
  return ViciClient::reachable(socket_path);
}

bool ViciBackend::apply(const compiler::Plan& plan, Action action) {
  if (plan.ikes.empty()) return true;
  auto connections = vici::translate(plan, diag_);
  if (!connections) {
    diag_.note("strongSwan cannot express these rules; nothing was sent to charon");
    return false;
  }
  try {
    ViciClient client(path_);
    if (action == Action::Delete) {
      for (const auto& c : *connections) remove_connection(client, c);
      return true;
    }

    std::set<std::string> existing;
    ViciSection conns = client.call("get-conns", {});
    if (const ViciItem* names = vici::find(conns, "conns"))
      existing.insert(names->list.begin(), names->list.end());

    std::vector<const vici::ViciConnection*> added;
    auto roll_back = [&](const std::string& why) {
      for (auto it = added.rbegin(); it != added.rend(); ++it) {
        if (existing.count((*it)->name) != 0) continue;  // was there before: keep
        try {
          remove_connection(client, **it);
        } catch (const ViciError&) {
        }
      }
      diag_.note(why + "; the connections this run added to charon were unloaded");
      return false;
    };

    for (const auto& c : *connections) {
      if (c.has_secret) {
        ViciSection reply = client.call("load-shared", c.load_shared);
        if (!succeeded(reply)) {
          diag_.error_at(c.origin, "charon refused the secret for " + c.name + ": " +
                                       value_of(reply, "errmsg"));
          return roll_back("loading failed");
        }
      }
      added.push_back(&c);
      ViciSection reply = client.call("load-conn", c.load_conn);
      if (!succeeded(reply)) {
        diag_.error_at(c.origin, "charon refused the connection " + c.name + ": " +
                                     value_of(reply, "errmsg"));
        return roll_back("loading failed");
      }
    }

    // Active and dynamic rules must come up now; their failure (a wrong
    // secret, no common proposal, no answer) is the user's to see.
    for (const auto& c : *connections) {
      for (const std::string& child : c.children_to_start) {
        if (child_installed(client, c.name, child)) continue;
        // The peer may be getting its configuration at this very moment
        // (two gateways loaded together): try again until the wait ends.
        std::vector<std::string> log;
        ViciSection reply;
        const auto deadline = std::chrono::steady_clock::now() + wait_;
        for (;;) {
          log.clear();
          auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
              deadline - std::chrono::steady_clock::now());
          auto attempt = std::max(std::min(left, std::chrono::milliseconds(kInitiateTimeoutMs)),
                                  std::chrono::milliseconds(1000));
          reply = client.call_streaming(
              "initiate",
              {value("child", child), value("ike", c.name),
               value("timeout", std::to_string(attempt.count())), value("loglevel", "1")},
              "control-log",
              [&](const ViciSection& event) {
                std::string msg = value_of(event, "msg");
                if (!msg.empty()) log.push_back(msg);
              },
              attempt + std::chrono::seconds(5));
          if (succeeded(reply) || child_installed(client, c.name, child)) break;
          if (std::chrono::steady_clock::now() + std::chrono::milliseconds(500) >= deadline) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
        if (!succeeded(reply) && !child_installed(client, c.name, child)) {
          std::string message = "charon could not bring up " + child + " with " + c.name + ": " +
                                value_of(reply, "errmsg");
          diag_.error_at(c.origin, message);
          // The daemon's own account, most telling lines last.
          std::size_t from = log.size() > 12 ? log.size() - 12 : 0;
          for (std::size_t i = from; i < log.size(); ++i)
            std::fprintf(stderr, "\tcharon: %s\n", log[i].c_str());
          return roll_back("bringing up the tunnel failed");
        }
      }
    }
    return true;
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
