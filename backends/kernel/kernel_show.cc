#include "backends/kernel/kernel_show.h"

#include <map>
#include <memory>

#include <cstdio>
#include <tuple>

#include "backends/kernel/lower_plan.h"
#include "compiler/keys.h"

namespace ipsecctl::backends {

using compiler::FlowEntry;
using compiler::SaEntry;
using parser::Direction;
using parser::FlowType;

std::optional<FlowEntry> flow_from_policy(const KernelPolicy& p) {
  if (p.dir == PolicyDir::Fwd) return std::nullopt;
  FlowEntry f;
  f.direction = p.dir == PolicyDir::Out ? Direction::Out : Direction::In;
  f.src = p.selector.src;
  f.dst = p.selector.dst;
  f.proto = p.selector.proto;
  f.sport = p.selector.sport;
  f.dport = p.selector.dport;
  if (p.block) {
    f.type = FlowType::Deny;
  } else if (p.templates.empty()) {
    f.type = FlowType::Bypass;
  } else {
    const PolicyTemplate& t = p.templates.front();
    f.satype = satype_of(t.ipproto).value_or(SaType::Esp);
    f.type = t.optional ? FlowType::Use : FlowType::Require;
    const IpAddress& far = f.direction == Direction::Out ? t.dst : t.src;
    const IpAddress& near = f.direction == Direction::Out ? t.src : t.dst;
    if (far.family != Family::Unspec) f.peer = far;
    if (near.family != Family::Unspec) f.local = near;
  }
  return f;
}

SaEntry sa_from_state(const KernelState& s) {
  SaEntry sa;
  sa.satype = satype_of(s.ipproto).value_or(SaType::Esp);
  sa.tmode = s.mode;
  sa.src = s.src;
  sa.dst = s.dst;
  sa.spi = s.spi;
  sa.udpencap = s.encap_dport != 0;
  sa.udpencap_port = s.encap_dport;
  if (s.auth) {
    sa.auth = &compiler::auth_transform(*s.auth);
    sa.authkey = s.auth_key;
  }
  if (s.enc) {
    sa.enc = &compiler::enc_transform(*s.enc);
    if (!s.enc_key.empty()) sa.enckey = s.enc_key;
  }
  if (s.comp) sa.comp = &compiler::comp_transform(compiler::CompAlg::Deflate);
  return sa;
}

namespace {
auto address_key(const std::optional<IpAddress>& a) {
  return a ? std::make_tuple(1, static_cast<int>(a->family), a->bytes, a->prefixlen)
           : std::make_tuple(0, 0, std::array<std::uint8_t, 16>{}, std::uint8_t{0});
}
auto address_key(const IpAddress& a) {
  return std::make_tuple(static_cast<int>(a.family), a.bytes, a.prefixlen);
}
}  // namespace

bool flow_display_less(const FlowEntry& a, const FlowEntry& b) {
  auto key = [](const FlowEntry& f) {
    return std::make_tuple(static_cast<int>(f.satype), f.direction == Direction::Out ? 0 : 1,
                           static_cast<int>(f.type), address_key(f.peer), address_key(f.local),
                           f.proto, f.sport, f.dport, address_key(f.src), address_key(f.dst));
  };
  return key(a) < key(b);
}

bool flows_collapse(const FlowEntry& a, const FlowEntry& b) {
  return a.satype == b.satype && a.direction == b.direction && a.sport == b.sport &&
         a.dport == b.dport && a.proto == b.proto && a.local == b.local && a.peer == b.peer &&
         a.type == b.type && !a.srcid && !b.srcid && !a.dstid && !b.dstid;
}

namespace {

// An IKE identity as OpenBSD prints a flow's: addresses with their prefix.
std::shared_ptr<const compiler::Identity> flow_identity(const std::string& id) {
  if (id.empty() || id == "%any") return nullptr;
  auto identity = std::make_shared<compiler::Identity>();
  identity->type = compiler::guess_id_type(id);
  identity->text = id;
  if (identity->type == compiler::IdType::Ipv4) identity->text += "/32";
  if (identity->type == compiler::IdType::Ipv6) identity->text += "/128";
  return identity;
}

}  // namespace

std::vector<compiler::FlowEntry> flows_from_policies(const std::vector<KernelPolicy>& policies,
                                                     const IkeSnapshot* ike) {
  std::map<std::uint32_t, const IkeSa*> by_reqid;
  if (ike != nullptr)
    for (const IkeSa& sa : ike->sas)
      for (const IkeChildSa& child : sa.children)
        if (child.reqid != 0 && sa.state == "ESTABLISHED") by_reqid.emplace(child.reqid, &sa);
  std::vector<compiler::FlowEntry> flows;
  for (const KernelPolicy& p : policies) {
    auto flow = flow_from_policy(p);
    if (!flow) continue;
    if (!by_reqid.empty() && !p.templates.empty()) {
      auto it = by_reqid.find(p.templates.front().reqid);
      if (it != by_reqid.end()) {
        flow->srcid = flow_identity(it->second->local_id);
        flow->dstid = flow_identity(it->second->remote_id);
      }
    }
    flows.push_back(std::move(*flow));
  }
  std::stable_sort(flows.begin(), flows.end(), flow_display_less);
  return flows;
}

}  // namespace ipsecctl::backends
