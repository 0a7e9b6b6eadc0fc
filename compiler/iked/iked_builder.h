// The meaning of iked.conf statements: iked's create_ike() and
// create_user(), host resolution as its host() does it, and the key
// files of `psk file`. Each statement becomes a Policy or a User in a
// Config, with iked's defaults filled in and its flows in its order.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "compiler/iked/iked_config.h"
#include "parser/iked/iked_semantics.h"

namespace ipsecctl::iked {

class ConfigBuilder : public Semantics {
 public:
  // Told of each user and policy as it is made (iked prints them then,
  // between the messages about the statements around them).
  using Listener = std::function<void(const Config&, Config::Kind, std::size_t)>;
  explicit ConfigBuilder(Listener listener = {}) : listener_(std::move(listener)) {}
  // No name service: a word that is neither an interface nor a number
  // stands for nothing (the fuzzer; tests that must not ask a server).
  void set_offline(bool offline) { offline_ = offline; }

  Config& config() { return config_; }
  // iked's rule count: policies and users made.
  int rules() const { return rules_; }

  std::optional<HostList> host(const std::string& word, Reporter& reporter) override;
  std::optional<int> protocol_number(const std::string& name) override;
  std::optional<std::uint16_t> service_port(const std::string& name, const char* proto) override;
  bool create_ike(IkeRule rule, Reporter& reporter) override;
  bool create_user(const std::string& name, const std::string& password,
                   Reporter& reporter) override;
  std::optional<std::string> key_file(const std::string& path, Reporter& reporter) override;

 private:
  struct InterfaceAddress {
    std::string name;
    int family = 0;  // AF_PACKET entries say an interface exists
    Address address;
  };
  void load_interfaces();
  std::optional<HostList> host_interface(const std::string& name);
  std::optional<HostList> host_numeric(const std::string& text, int mask);
  std::optional<HostList> host_dns(const std::string& text, int mask, Reporter& reporter);
  bool name_policy(const IkeRule& rule, unsigned id, Policy& policy, Reporter& reporter);
  bool choose_endpoints(const IkeRule& rule, Policy& policy, Reporter& reporter);
  void add_rule_flows(const IkeRule& rule, Policy& policy, Reporter& reporter);
  bool build_proposals(const TransformSets& sets, bool ike, int saproto, Policy& policy,
                       Reporter& reporter);
  bool add_flows(const Host& src, const Host& dst, int ipproto, Policy& policy,
                 Reporter& reporter);
  bool add_flow(const Host& src, const Host& dst, int ipproto, Policy& policy,
                Reporter& reporter);
  Host expand_keyword(const Host& host, int family, Reporter& reporter);

  void made(Config::Kind kind, std::size_t index);

  Listener listener_;
  bool offline_ = false;
  Config config_;
  int rules_ = 0;
  unsigned policy_id_ = 0;
  bool interfaces_loaded_ = false;
  std::vector<InterfaceAddress> interfaces_;
};

}  // namespace ipsecctl::iked
