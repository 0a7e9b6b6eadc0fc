// ike rules: expansion into one IkeEntry per pair of networks, the
// default peer isakmpd has one of, and the IKE version each rule speaks.
#include "compiler/rule_compiler.h"

#include "compiler/ike_policy.h"

namespace ipsecctl::compiler {

namespace {

std::optional<Identity> identity_value(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  return Identity{*text, guess_id_type(*text)};
}

}  // namespace

IkeVersion RuleCompiler::ike_version_at(SourceLocation where) const {
  for (;;) {
    if (auto it = ike_versions_.find(where.file); it != ike_versions_.end())
      for (auto s = it->second.rbegin(); s != it->second.rend(); ++s)
        if (s->first <= where.line) return s->second;
    auto parent = diag_.included_from(where.file);
    if (!parent) return ike_version_;
    where = *parent;
  }
}

void RuleCompiler::check_default_peer(const IkeEntry& rule, const parser::IkeRule& syntax) {
  DefaultPeer current;
  if (rule.local) current.local = rule.local->name;
  current.psk = rule.psk;
  current.psk_text = rule.psk_text;
  current.exchange = rule.phase1.exchange;
  current.srcid = syntax.ids.srcid;
  current.dstid = syntax.ids.dstid;
  if (!default_peer_) {
    // OpenBSD remembers the rule itself, and printing an `ike dynamic`
    // rule without srcid gives it the host name as srcid (-v, adding):
    // later rules are compared with that.
    // Only if its phase 1 could be written: the identities come after it.
    if (printing_sets_dynamic_srcid_ && rule.mode == IkeMode::Dynamic && !current.srcid) {
      const auto refusal = ike_policy(rule).refusal;
      if (!refusal || refusal->stage != IkeRefusalStage::Phase1)
        current.srcid = resolver_.host_name();
    }
    default_peer_ = current;
    return;
  }
  // isakmpd has one default peer; rules that share it must agree on it.
  const DefaultPeer& first = *default_peer_;
  if (first.local != current.local) diag_.warning("default peer local mismatch");
  if (first.psk != current.psk) diag_.warning("default peer phase 1 auth mismatch");
  if (first.psk && current.psk && first.psk_text != current.psk_text)
    diag_.warning("default peer psk mismatch");
  if (first.exchange != current.exchange) diag_.warning("default peer phase 1 mode mismatch");
  if (first.srcid != current.srcid) diag_.warning("default peer srcid mismatch");
  if (first.dstid != current.dstid) diag_.warning("default peer dstid mismatch");
}

bool RuleCompiler::ike_rule(parser::IkeRule&& rule) {
  if (!check_ports(rule.hosts, rule.proto)) return false;
  if (rule.phase2.transforms && rule.phase2.transforms->enc != nullptr &&
      rule.phase2.transforms->enc->noauth && rule.phase2.transforms->auth != nullptr) {
    diag_.error("authentication is implicit for " +
                std::string(rule.phase2.transforms->enc->name));
    return false;
  }
  IkeEntry base;
  base.mode = rule.mode.value_or(IkeMode::Active);
  base.satype = rule.satype.value_or(SaType::Esp);
  base.tmode = rule.tmode.value_or(TunnelMode::Tunnel);
  base.proto = static_cast<std::uint8_t>(rule.proto);
  base.sport = rule.hosts.sport;
  base.dport = rule.hosts.dport;
  base.phase1.exchange = rule.phase1.given ? rule.phase1.exchange : Phase1Exchange::Main;
  base.phase1.transforms = rule.phase1.transforms;
  base.phase1.lifetime_seconds = rule.phase1.lifetime_seconds;
  base.phase2.transforms = rule.phase2.transforms;
  base.phase2.lifetime_seconds = rule.phase2.lifetime_seconds;
  base.srcid = identity_value(rule.ids.srcid);
  base.dstid = identity_value(rule.ids.dstid);
  base.psk = rule.psk_given;
  base.psk_text = rule.psk;
  base.tag = rule.tag;
  base.sec_interface = rule.sec_interface;
  base.origin = diag_.position();
  base.version = ike_version_at(base.origin);

  parser::HostList src_hosts = rule.hosts.src;
  parser::HostList dst_hosts = rule.hosts.dst;
  if (rule.sec_interface) {
    // A sec(4) interface carries everything: 0.0.0.0/0 on both sides.
    auto everything = std::make_shared<HostNode>();
    everything->endpoints.push_back(
        Endpoint{*parse_ipv4_network("0.0.0.0/0"), true, "0.0.0.0/0", nullptr});
    src_hosts = {everything};
    dst_hosts = {everything};
  }
  if (!families_match(src_hosts, dst_hosts)) {
    diag_.error("source/destination address families do not match");
    return true;
  }
  int added = 0;
  for (const Endpoint& src : expand_hosts(src_hosts)) {
    for (const Endpoint& dst : expand_hosts(dst_hosts)) {
      if (src.address.family != dst.address.family) continue;
      IkeEntry ike = base;
      ike.src = src;
      ike.dst = dst;
      if (rule.peers.local && !rule.peers.local->any) ike.local = rule.peers.local->endpoints.front();
      if (rule.peers.peer) {
        if (!rule.peers.peer->any) ike.peer = rule.peers.peer->endpoints.front();
      } else if (!dst.network) {
        ike.peer = dst;
      }
      if (!ike.peer) check_default_peer(ike, rule);
      if (ike.mode == IkeMode::Dynamic && !ike.srcid)
        ike.srcid = Identity{resolver_.host_name(), IdType::Fqdn};
      ike.nr = next_nr();
      plan_.ikes.push_back(std::move(ike));
      add(RuleKind::Ike, static_cast<std::uint32_t>(plan_.ikes.size() - 1));
      ++added;
    }
  }
  if (added == 0) diag_.error("rule expands to no valid combination");
  return true;
}

}  // namespace ipsecctl::compiler
