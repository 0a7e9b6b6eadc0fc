#include "backends/vici/vici_charon.h"

#include <chrono>
#include <map>
#include <thread>

namespace ipsecctl::backends::vici {

bool succeeded(const ViciSection& reply) { return value_of(reply, "success") == "yes"; }

std::set<std::string> listed(ViciClient& client, const char* command, const char* key) {
  ViciSection reply = client.call(command, {});
  std::set<std::string> out;
  if (const ViciItem* names = find(reply, key)) out.insert(names->list.begin(), names->list.end());
  return out;
}

std::set<std::string> sections_of(ViciClient& client, const char* command) {
  std::set<std::string> out;
  for (const ViciItem& item : client.call(command, {}))
    if (item.kind == ViciItem::Kind::Section) out.insert(item.name);
  return out;
}

std::vector<std::string> unload_pools(ViciClient& client, const std::set<std::string>& names,
                                      const std::set<std::string>& held) {
  // charon keeps a pool while a lease from it is online, and the IKE SAs
  // of the connections just unloaded may still be on their way out: a
  // refused pool is asked again for a few seconds.
  std::map<std::string, std::string> refused;  // name -> charon's last answer
  for (const std::string& name : names)
    if (held.count(name) != 0) refused[name];
  for (int round = 0; round < 16 && !refused.empty(); ++round) {
    if (round != 0) std::this_thread::sleep_for(std::chrono::milliseconds(250));
    for (auto it = refused.begin(); it != refused.end();) {
      const ViciSection answer = client.call("unload-pool", {value("name", it->first)});
      if (succeeded(answer)) {
        it = refused.erase(it);
      } else {
        it->second = value_of(answer, "errmsg");
        ++it;
      }
    }
  }
  std::vector<std::string> failures;
  for (const auto& [name, why] : refused) failures.push_back("unload-pool " + name + ": " + why);
  return failures;
}

namespace {

// noblock here: polled while thousands of IKE SAs may be negotiating,
// and a peer that talks is seen at the next poll anyway.
std::set<std::string> ike_sa_peers(ViciClient& client) {
  std::set<std::string> out;
  client.call_streaming("list-sas", {value("noblock", "yes")}, "list-sa",
                        [&](const ViciSection& event) {
                          for (const ViciItem& sa : event)
                            out.insert(value_of(sa.section, "remote-host"));
                        });
  return out;
}

}  // namespace

void start_tunnels(ViciClient& client, std::vector<ViciClient::Request> now,
                   std::vector<std::pair<std::string, ViciClient::Request>> deferred) {
  client.call_batch(now);
  // Long enough for a peer that loaded at the same moment to be heard
  // (its first message arrives within a round trip), short enough that a
  // load never waits noticeably.
  constexpr auto kMoment = std::chrono::milliseconds(3000);
  const auto until = std::chrono::steady_clock::now() + kMoment;
  while (!deferred.empty() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const std::set<std::string> talking = ike_sa_peers(client);
    std::erase_if(deferred, [&](const auto& d) { return talking.count(d.first) != 0; });
  }
  std::vector<ViciClient::Request> starts;
  for (auto& d : deferred) starts.push_back(std::move(d.second));
  client.call_batch(starts);
}

std::set<std::string> ike_sa_names(ViciClient& client) {
  std::set<std::string> out;
  client.call_streaming("list-sas", {}, "list-sa",
                        [&](const ViciSection& event) {
                          for (const ViciItem& sa : event) out.insert(sa.name);
                        });
  return out;
}

namespace {

// Terminates a connection's IKE SAs (sending the peer a delete, not
// waiting for its answer: it may be gone), done when the request returns,
// so that nothing of it is left when ipsecctl exits.
ViciClient::Request terminate_request(const std::string& name) {
  return {"terminate", {value("ike", name), value("force", "yes"), value("timeout", "5000")}};
}

}  // namespace

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
    for (const auto& name : ike_sa_names(client))
      if (names.count(name) != 0) alive.insert(name);
    if (alive.empty()) break;
    if (round != 0) std::this_thread::sleep_for(std::chrono::milliseconds(250));
    std::vector<ViciClient::Request> terminations;
    for (const auto& name : alive) terminations.push_back(terminate_request(name));
    client.call_batch(terminations);
  }
  return failures;
}

std::vector<std::string> unload_secrets(ViciClient& client, const std::set<std::string>& ids,
                                        const std::set<std::string>& held) {
  std::vector<ViciClient::Request> requests;
  for (const auto& id : ids)
    if (held.count(id) != 0) requests.push_back({"unload-shared", {value("id", id)}});
  const auto answers = client.call_batch(requests);
  std::vector<std::string> failures;
  for (std::size_t i = 0; i < answers.size(); ++i)
    if (!succeeded(answers[i]))
      failures.push_back("unload-shared " + value_of(requests[i].message, "id") + ": " +
                         value_of(answers[i], "errmsg"));
  return failures;
}

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
    const int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
  }
  return out;
}

std::optional<ViciSection> load_conn_from_hex(const std::string& text) {
  auto bytes = from_hex(text);
  if (!bytes) return std::nullopt;
  try {
    return decode(bytes->data(), bytes->size());
  } catch (const ViciError&) {
    return std::nullopt;
  }
}

}  // namespace ipsecctl::backends::vici
