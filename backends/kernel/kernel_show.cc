#include "backends/kernel/kernel_show.h"

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

std::string format_state_details(const KernelState& s, bool show_keys) {
  char line[256];
  std::string out;
  const SaEntry sa = sa_from_state(s);
  if (s.comp) {
    std::snprintf(line, sizeof line, "\tsa: cpi 0x%8.8x comp deflate\n", s.spi);
  } else {
    std::snprintf(line, sizeof line, "\tsa: spi 0x%8.8x auth %s enc %s\n", s.spi,
                  sa.auth ? std::string(sa.auth->name).c_str() : "none",
                  sa.enc ? std::string(sa.enc->name).c_str() : "none");
  }
  out += line;
  unsigned flags = (s.mode == TunnelMode::Tunnel ? 0x4U : 0U) | (sa.udpencap ? 0x200U : 0U);
  std::string names;
  if (flags & 0x4U) names += "tunnel";
  if (flags & 0x200U) names += names.empty() ? "udpencap" : ",udpencap";
  std::snprintf(line, sizeof line, "\t\tstate mature replay %u flags %#x<%s>\n",
                s.replay_window, flags, names.c_str());
  out += line;
  std::snprintf(line, sizeof line, "\tlifetime_cur: alloc 0 bytes %llu add %llu first %llu\n",
                static_cast<unsigned long long>(s.counters.bytes),
                static_cast<unsigned long long>(s.counters.add_time),
                static_cast<unsigned long long>(s.counters.use_time));
  out += line;
  out += "\taddress_src: " + compiler::format_address(s.src) + "\n";
  out += "\taddress_dst: " + compiler::format_address(s.dst) + "\n";
  if (show_keys && s.auth && !s.auth_key.empty())
    out += "\tkey_auth: bits " + std::to_string(s.auth_key.size() * 8) + ": " +
           compiler::format_hex_key(s.auth_key) + "\n";
  if (show_keys && s.enc && !s.enc_key.empty())
    out += "\tkey_encrypt: bits " + std::to_string(s.enc_key.size() * 8) + ": " +
           compiler::format_hex_key(s.enc_key) + "\n";
  if (sa.udpencap) out += "\tudpencap: udpencap port " + std::to_string(s.encap_dport) + "\n";
  if (!s.unknown_auth.empty()) out += "\tkernel auth algorithm: " + s.unknown_auth + "\n";
  if (!s.unknown_enc.empty()) out += "\tkernel enc algorithm: " + s.unknown_enc + "\n";
  std::snprintf(line, sizeof line, "\tcounter:\n\t\t%llu packet%s\n\t\t%llu byte%s\n",
                static_cast<unsigned long long>(s.counters.packets),
                s.counters.packets == 1 ? "" : "s",
                static_cast<unsigned long long>(s.counters.bytes),
                s.counters.bytes == 1 ? "" : "s");
  out += line;
  if (s.counters.replay_failures != 0 || s.counters.integrity_failures != 0) {
    std::snprintf(line, sizeof line,
                  "\t\t%u packet%s dropped (replay)\n\t\t%u packet%s dropped (integrity)\n",
                  s.counters.replay_failures, s.counters.replay_failures == 1 ? "" : "s",
                  s.counters.integrity_failures, s.counters.integrity_failures == 1 ? "" : "s");
    out += line;
  }
  return out;
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

}  // namespace ipsecctl::backends
