#include "compiler/rule_text.h"

#include <cstdio>

#include "compiler/keys.h"

namespace ipsecctl::compiler {

const char* satype_name(SaType type) {
  switch (type) {
    case SaType::Esp: return "esp";
    case SaType::Ah: return "ah";
    case SaType::Ipcomp: return "ipcomp";
    case SaType::Ipip: return "ipip";
    case SaType::Tcpmd5: return "tcpmd5";
  }
  return "?";
}

const char* flow_type_name(FlowType type) {
  switch (type) {
    case FlowType::Use: return "use";
    case FlowType::Acquire: return "acquire";
    case FlowType::Require: return "require";
    case FlowType::Deny: return "deny";
    case FlowType::Bypass: return "bypass";
    case FlowType::DontAcq: return "dontacq";
  }
  return "?";
}

namespace {
std::string port_text(std::uint16_t port, std::uint8_t proto, Resolver& resolver) {
  // Services are looked up as tcp for tcp flows and as udp otherwise.
  if (auto name = resolver.service_name(port, proto == 6 ? "tcp" : "udp")) return *name;
  return std::to_string(port);
}
}  // namespace

namespace {
// The flow line with the source and destination already written out.
std::string flow_line(const FlowEntry& f, const std::string& from, const std::string& to,
                      Resolver& resolver) {
  std::string s = "flow ";
  s += satype_name(f.satype);
  s += f.direction == Direction::In ? " in" : " out";
  if (f.proto != 0) {
    auto name = resolver.protocol_name(f.proto);
    s += " proto " + (name ? *name : std::to_string(f.proto));
  }
  s += " from " + from;
  if (f.sport != 0) s += " port " + port_text(f.sport, f.proto, resolver);
  s += " to " + to;
  if (f.dport != 0) s += " port " + port_text(f.dport, f.proto, resolver);
  if (f.local) s += " local " + format_prefix(*f.local);
  if (f.peer) s += " peer " + format_prefix(*f.peer);
  if (f.srcid) s += " srcid " + f.srcid->text;
  if (f.dstid) s += " dstid " + f.dstid->text;
  s += " type ";
  s += flow_type_name(f.type);
  s += "\n";
  return s;
}

std::string address_list(const std::vector<IpAddress>& addresses) {
  std::string s = "{ ";
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    if (i != 0) s += ", ";
    s += format_prefix(addresses[i]);
  }
  return s + " }";
}
}  // namespace

std::string format_flow(const FlowEntry& f, Resolver& resolver) {
  return flow_line(f, format_prefix(f.src), format_prefix(f.dst), resolver);
}

std::string format_flow_group(const FlowEntry& first, const std::vector<IpAddress>& sources,
                              const std::vector<IpAddress>& destinations, Resolver& resolver) {
  return flow_line(first, address_list(sources), address_list(destinations), resolver);
}

std::string format_sa(const SaEntry& sa, bool show_keys) {
  std::string s = satype_name(sa.satype);
  s += " ";
  if (sa.satype != SaType::Tcpmd5 && sa.satype != SaType::Ipip)
    s += sa.tmode == TunnelMode::Tunnel ? "tunnel " : "transport ";
  s += "from " + format_prefix(sa.src) + " to " + format_prefix(sa.dst);
  char spi[16];
  std::snprintf(spi, sizeof spi, "0x%08x", sa.spi);
  s += " spi ";
  s += spi;
  if (sa.satype != SaType::Tcpmd5) {
    if (sa.auth != nullptr) s += " auth " + std::string(sa.auth->name);
    if (sa.enc != nullptr) s += " enc " + std::string(sa.enc->name);
    if (sa.comp != nullptr) s += " comp " + std::string(sa.comp->name);
  }
  const char* separator = sa.satype == SaType::Tcpmd5 ? " " : " \\\n\t";
  if (show_keys && sa.authkey) s += separator + std::string("authkey 0x") + format_hex_key(*sa.authkey);
  if (show_keys && sa.enckey) s += separator + std::string("enckey 0x") + format_hex_key(*sa.enckey);
  s += "\n";
  return s;
}

std::string format_bundle(const BundleEntry& b) {
  char spi1[16], spi2[16];
  std::snprintf(spi1, sizeof spi1, "0x%08x", b.spi1);
  std::snprintf(spi2, sizeof spi2, "0x%08x", b.spi2);
  return std::string("[bundle ") + satype_name(b.satype1) + " to " + format_prefix(b.dst1) +
         " spi " + spi1 + " with " + satype_name(b.satype2) + " to " + format_prefix(b.dst2) +
         " spi " + spi2 + "]\n";
}

}  // namespace ipsecctl::compiler
