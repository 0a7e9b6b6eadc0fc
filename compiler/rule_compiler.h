// Turns statements into plan entries: validation with OpenBSD's exact
// messages, defaults, and expansion (host lists, `any` as both address
// families, in/out flow pairs, reverse SAs, bundles).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "compiler/plan.h"
#include "compiler/resolver.h"
#include "common/diagnostics.h"
#include "parser/semantics.h"

namespace ipsecctl::compiler {

// Told about every macro definition and every rule as it is added, in
// order; the verbose printer is one.
class RuleListener {
 public:
  virtual ~RuleListener() = default;
  virtual void macro_defined(const std::string& name, const std::string& value) = 0;
  virtual void rule_added(const Plan& plan, RuleRef rule) = 0;
};

// Two listeners told the same, in order; either may be null.
class ListenerPair final : public RuleListener {
 public:
  ListenerPair(RuleListener* first, RuleListener* second) : first_(first), second_(second) {}
  void macro_defined(const std::string& name, const std::string& value) override {
    if (first_ != nullptr) first_->macro_defined(name, value);
    if (second_ != nullptr) second_->macro_defined(name, value);
  }
  void rule_added(const Plan& plan, RuleRef rule) override {
    if (first_ != nullptr) first_->rule_added(plan, rule);
    if (second_ != nullptr) second_->rule_added(plan, rule);
  }

 private:
  RuleListener* first_;
  RuleListener* second_;
};

class RuleCompiler final : public parser::Semantics {
 public:
  RuleCompiler(Resolver& resolver, Diagnostics& diagnostics, Plan& plan,
               RuleListener* listener = nullptr);

  parser::HostRef host(const std::string& spec) override;
  parser::HostRef any_host() override;
  bool attach_nat(const parser::HostRef& host, const parser::HostRef& nat) override;
  bool check_destination(const parser::HostList& dst) override;
  std::optional<int> protocol(const std::string& name) override;
  std::optional<int> protocol(long long number) override;
  std::optional<std::uint16_t> port(const std::string& name) override;
  std::optional<std::uint16_t> port(long long number) override;
  std::optional<parser::SpiClause> spi(const std::string& text) override;
  std::optional<parser::SpiClause> spi(long long number) override;
  parser::TransformsRef new_transforms() override;
  void add_transform(const parser::TransformsRef& set, parser::TransformKind kind,
                     const std::string& name) override;
  parser::KeysRef key_literal(const std::string& text) override;
  parser::KeysRef key_file(const std::string& paths) override;
  long long lifetime(long long seconds) override;
  long long lifetime(const std::string& text) override;
  std::optional<unsigned> sec_interface(const std::string& name) override;
  bool id_takes_prefix(const std::string& id) override;
  std::optional<std::string> id_with_prefix(const std::string& id, long long prefix) override;

  // Lets manual SAs use AES-GCM/GMAC and ChaCha20-Poly1305, which OpenBSD
  // refuses with static keys: re-installing the same key restarts the
  // counter that forms the nonce, so the caller must never reuse a key.
  void allow_static_aead(bool allow) { allow_static_aead_ = allow; }
  // Rules are printed as they are added (-v, not -d): OpenBSD's printer
  // then gives `ike dynamic` rules the host name as srcid, which the
  // default peer checks of later rules see.
  void printing_sets_dynamic_srcid(bool yes) { printing_sets_dynamic_srcid_ = yes; }
  // The IKE version of ike rules where the files do not set
  // ipsecctl_ike_version (--ike-version); `forced`: the files' settings
  // are ignored (-D).
  void ike_version(IkeVersion version, bool forced) {
    ike_version_ = version;
    ike_version_forced_ = forced;
  }

  bool macro_defined(const std::string& name, const std::string& value) override;
  bool ike_rule(parser::IkeRule&& rule) override;
  bool flow_rule(parser::FlowRule&& rule) override;
  bool sa_rule(parser::SaRule&& rule) override;
  bool tcpmd5_rule(parser::Tcpmd5Rule&& rule) override;

 private:
  struct SaTemplate;  // one SA before expansion
  struct BundleChain {
    std::string src_name;
    std::string dst_name;
    std::string bundle;
    SaType last_satype;
    IpAddress last_dst;
    std::uint32_t last_spi;
  };
  struct DefaultPeer {
    std::optional<std::string> local;
    bool psk = false;
    std::string psk_text;
    Phase1Exchange exchange = Phase1Exchange::Main;
    std::optional<std::string> srcid;
    std::optional<std::string> dstid;
  };

  struct ScopedAddress {
    IpAddress address;
    std::string scope;  // "%lo", or empty
  };
  std::optional<ScopedAddress> parse_scoped_ipv6(const std::string& text);
  std::vector<Endpoint> expand_hosts(const parser::HostList& hosts) const;
  bool families_match(const parser::HostList& src, const parser::HostList& dst) const;
  void add(RuleKind kind, std::uint32_t index);
  bool check_ports(const parser::HostsClause& hosts, int proto);
  std::optional<std::uint32_t> spi_word(const std::string& text);
  // A hint costs nothing unless carets will show it.
  template <typename Make>
  std::string hinted(Make make) const {
    return diag_.style() == DiagnosticStyle::Caret ? std::string(make()) : std::string();
  }
  std::uint32_t next_nr() { return rule_nr_++; }
  bool validate_sa(std::uint32_t spi, SaType satype, TransformSet& xfs,
                   const std::optional<std::vector<std::uint8_t>>& authkey,
                   const std::optional<std::vector<std::uint8_t>>& enckey);
  bool expand_sa(const SaTemplate& sa, const parser::HostsClause& hosts,
                 const parser::SpiClause& spi,
                 const std::optional<std::vector<std::uint8_t>>& authkey_in,
                 const std::optional<std::vector<std::uint8_t>>& enckey_in);
  void add_to_bundle(const SaEntry& sa, const std::string& src_name,
                     const std::string& dst_name, const std::string& bundle);
  void check_default_peer(const IkeEntry& rule, const parser::IkeRule& syntax);
  std::vector<std::uint8_t> hex_key(const std::string& text);

  Resolver& resolver_;
  Diagnostics& diag_;
  Plan& plan_;
  RuleListener* listener_;
  std::uint32_t rule_nr_ = 0;
  std::vector<BundleChain> bundles_;
  std::optional<DefaultPeer> default_peer_;
  bool allow_static_aead_ = false;
  bool printing_sets_dynamic_srcid_ = false;
  // The version of a rule at `where`: the last ipsecctl_ike_version set
  // before it in its file, else the one in force where its file was
  // included, else the run's.
  IkeVersion ike_version_at(SourceLocation where) const;

  IkeVersion ike_version_ = IkeVersion::V1;
  bool ike_version_forced_ = false;
  // Each file's ipsecctl_ike_version settings, by line, in order.
  std::unordered_map<std::uint32_t, std::vector<std::pair<std::uint32_t, IkeVersion>>>
      ike_versions_;
};

}  // namespace ipsecctl::compiler
