// flow rules: in/out pairs, peers, identities.
#include "compiler/rule_compiler.h"


namespace ipsecctl::compiler {

namespace {

std::shared_ptr<const Identity> make_identity(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  return std::make_shared<const Identity>(Identity{*text, guess_id_type(*text)});
}

}  // namespace

bool RuleCompiler::flow_rule(parser::FlowRule&& rule) {
  const bool both_directions = !rule.direction;
  const Direction direction = rule.direction.value_or(Direction::Out);
  const SaType satype = rule.satype.value_or(SaType::Esp);
  if (!check_ports(rule.hosts, rule.proto)) return false;
  FlowType type = rule.type.value_or(
      satype == SaType::Ipcomp || satype == SaType::Ipip ? FlowType::Use : FlowType::Require);
  // deny and bypass flows need no peer: they never reach an SA.
  const bool needs_peer = type != FlowType::Deny && type != FlowType::Bypass;
  auto srcid = needs_peer ? make_identity(rule.ids.srcid) : nullptr;
  auto dstid = needs_peer ? make_identity(rule.ids.dstid) : nullptr;

  if (!families_match(rule.hosts.src, rule.hosts.dst)) {
    diag_.error("source/destination address families do not match");
    return true;
  }
  const SourceLocation origin = diag_.position();
  int added = 0;
  for (const Endpoint& src : expand_hosts(rule.hosts.src)) {
    for (const Endpoint& dst : expand_hosts(rule.hosts.dst)) {
      if (src.address.family != dst.address.family) continue;
      FlowEntry flow;
      flow.satype = satype;
      flow.direction = direction;
      flow.type = type;
      flow.proto = static_cast<std::uint8_t>(rule.proto);
      flow.sport = rule.hosts.sport;
      flow.dport = rule.hosts.dport;
      flow.src = src.address;
      flow.dst = dst.address;
      flow.srcid = srcid;
      flow.dstid = dstid;
      flow.origin = origin;
      if (needs_peer) {
        if (rule.peers.local && !rule.peers.local->any)
          flow.local = rule.peers.local->endpoints.front().address;
        if (rule.peers.peer) {
          // `peer any` satisfies the check but leaves the flow without one.
          if (!rule.peers.peer->any) flow.peer = rule.peers.peer->endpoints.front().address;
        } else {
          const Endpoint& remote = direction == Direction::In ? src : dst;
          if (!remote.network) flow.peer = remote.address;
          if (!flow.peer) {
            diag_.set_focus(rule.hosts.dst_where);
            diag_.error("no peer specified for destination " + dst.name, hinted([&] {
              return "the destination is a network, so the flow needs 'peer ADDRESS' (the "
                     "gateway for it), or 'peer any'";
            }));
            return true;
          }
        }
      }
      flow.nr = next_nr();
      plan_.flows.push_back(flow);
      add(RuleKind::Flow, static_cast<std::uint32_t>(plan_.flows.size() - 1));
      if (both_directions) {
        FlowEntry reverse = flow;
        reverse.direction = Direction::In;
        std::swap(reverse.src, reverse.dst);
        std::swap(reverse.sport, reverse.dport);
        reverse.nr = next_nr();
        plan_.flows.push_back(reverse);
        add(RuleKind::Flow, static_cast<std::uint32_t>(plan_.flows.size() - 1));
      }
      ++added;
    }
  }
  if (added == 0) diag_.error("rule expands to no valid combination");
  return true;
}

}  // namespace ipsecctl::compiler
