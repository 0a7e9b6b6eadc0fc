// The compiler's common ground: construction, the rule list and its
// listener, ports that need a protocol, and macro definitions (one of
// which, ipsecctl_ike_version, is read here). Each kind of statement has
// a file of its own: rule_hosts, rule_values, rule_flows, rule_ike and
// rule_sas.
#include "compiler/rule_compiler.h"

namespace ipsecctl::compiler {

namespace {

constexpr int kTcp = 6;
constexpr int kUdp = 17;

}  // namespace

IdType guess_id_type(const std::string& text) {
  if (parse_ipv4(text)) return IdType::Ipv4;
  if (parse_ipv6(text)) return IdType::Ipv6;
  if (text.find('@') != std::string::npos) return IdType::UserFqdn;
  return IdType::Fqdn;
}

RuleCompiler::RuleCompiler(Resolver& resolver, Diagnostics& diagnostics, Plan& plan,
                           RuleListener* listener)
    : resolver_(resolver), diag_(diagnostics), plan_(plan), listener_(listener) {}

// ---------------------------------------------------------- statements

bool RuleCompiler::check_ports(const parser::HostsClause& hosts, int proto) {
  if ((hosts.sport != 0 || hosts.dport != 0) && proto != kTcp && proto != kUdp) {
    diag_.set_focus(hosts.sport != 0 ? hosts.sport_where : hosts.dport_where);
    diag_.error("no protocol supplied with source/destination ports", hinted([] {
      return std::string("ports need 'proto tcp' or 'proto udp' before 'from'");
    }));
    return false;
  }
  return true;
}

void RuleCompiler::add(RuleKind kind, std::uint32_t index) {
  plan_.order.push_back(RuleRef{kind, index});
  if (listener_ != nullptr) listener_->rule_added(plan_, plan_.order.back());
}

bool RuleCompiler::macro_defined(const std::string& name, const std::string& value) {
  if (listener_ != nullptr) listener_->macro_defined(name, value);
  // ipsecctl_ike_version: the ike rules after it speak this version, in
  // its file and in the files that file includes after it, until it is set
  // again; it never leaks out of an included file, so that a file per peer
  // says what its own peer speaks (unless -D fixed it for the whole run).
  if (name == kIkeVersionMacro && !ike_version_forced_) {
    auto version = ike_version_from_text(value);
    if (!version) {
      diag_.error(std::string(kIkeVersionMacro) + ": \"" + value +
                      "\" is not an IKE version (1, 2 or any)",
                  hinted([] {
                    return "1: IKEv1 (isakmpd's, the default); 2: IKEv2; any: IKEv1 rules "
                           "that charon also speaks as IKEv2";
                  }));
      return false;
    }
    const SourceLocation here = diag_.position();
    ike_versions_[here.file].emplace_back(here.line, *version);
  }
  return true;
}

}  // namespace ipsecctl::compiler
