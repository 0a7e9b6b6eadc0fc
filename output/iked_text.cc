#include "output/iked_text.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>

#include "parser/iked/iked_transforms.h"

namespace ipsecctl::output {
namespace {

using iked::Address;
using iked::NameTable;
using iked::TransformType;

std::string host_text(const Address& a) {
  if (a.family == AF_UNSPEC) return "any";
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (a.family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    in->sin_family = AF_INET;
    std::memcpy(&in->sin_addr, a.bytes.data(), 4);
    len = sizeof *in;
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    in6->sin6_family = AF_INET6;
    std::memcpy(&in6->sin6_addr, a.bytes.data(), 16);
    in6->sin6_scope_id = a.scope_id;
    len = sizeof *in6;
  }
  char buf[NI_MAXHOST];
  if (::getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, buf, sizeof buf, nullptr, 0,
                    NI_NUMERICHOST) != 0)
    return "unknown";
  return buf;
}

std::string protocol_text(int number) {
  protoent entry{};
  protoent* found = nullptr;
  char buffer[1024];
  if (::getprotobynumber_r(number, &entry, buffer, sizeof buffer, &found) == 0 && found)
    return found->p_name;
  return std::to_string(number);
}

void append_address(std::string& out, const Address& a, bool with_port) {
  out += host_text(a);
  if (a.family != AF_UNSPEC && a.network) out += "/" + std::to_string(a.mask);
  if (with_port && a.port_be != 0) out += " port " + std::to_string(ntohs(a.port_be));
}

const char* type_word(TransformType type) {
  switch (type) {
    case TransformType::Encr: return " enc ";
    case TransformType::Prf: return " prf ";
    case TransformType::Integ: return " auth ";
    case TransformType::Dh: return " group ";
    case TransformType::Esn: return " ";
  }
  return " ";
}

const char* auth_method_text(iked::AuthMethod method) {
  return iked::name_of(NameTable::AuthMethod, static_cast<unsigned>(method)).data();
}

}  // namespace

std::string render_iked_address(const iked::Address& address) {
  std::string out;
  append_address(out, address, false);
  return out;
}

std::string render_iked_proposal(const iked::Proposal& proposal) {
  std::string out;
  for (int type = 1; type <= 5; ++type) {
    for (const iked::Transform& t : proposal.transforms) {
      if (static_cast<int>(t.type) != type) continue;
      out += type_word(t.type);
      out += iked::name_of(iked::table_for(t.type, proposal.ike), t.id, t.length_bits / 8);
    }
  }
  return out.empty() ? out : out.substr(1);
}

std::string render_iked_user(const iked::User& user) {
  return "user \"" + user.name + "\" \"" + user.password + "\"\n";
}

std::string render_iked_policy(const iked::Policy& p) {
  std::string out = "ikev2";
  if (!p.name.empty()) out += " \"" + p.name + "\"";
  if (p.flags & iked::kDefault)
    out += " default";
  else if (p.flags & iked::kQuick)
    out += " quick";
  else if (p.flags & iked::kSkip)
    out += " skip";
  out += (p.flags & iked::kActive) ? " active" : " passive";
  if (p.flags & iked::kIpcomp) out += " ipcomp";
  out += (p.flags & iked::kTransport) ? " transport" : " tunnel";
  out += " ";
  out += iked::name_of(NameTable::SaProto, static_cast<unsigned>(p.saproto));
  if (!p.ipprotos.empty()) {
    out += " proto {";
    for (std::size_t i = 0; i < p.ipprotos.size(); ++i)
      out += (i == 0 ? " " : ", ") + protocol_text(p.ipprotos[i]);
    out += " }";
  }
  if (p.family != 0) out += p.family == AF_INET ? " inet" : " inet6";
  for (const iked::Flow& f : p.flows) {
    out += " from ";
    append_address(out, f.src, true);
    out += " to ";
    append_address(out, f.dst, true);
  }
  if ((p.flags & iked::kDefault) == 0) {
    out += " local ";
    append_address(out, p.local, false);
    out += " peer ";
    append_address(out, p.peer, false);
  }
  for (const iked::Proposal& proposal : p.proposals) {
    if (proposal.transforms.empty()) continue;
    out += proposal.ike ? " ikesa " : " childsa ";
    out += render_iked_proposal(proposal);
  }
  if (!p.srcid.empty()) out += " srcid " + p.srcid;
  if (!p.dstid.empty()) out += " dstid " + p.dstid;
  if (p.ike_rekey_seconds != 0) out += " ikelifetime " + std::to_string(p.ike_rekey_seconds);
  out += " lifetime " + std::to_string(p.lifetime.seconds) + " bytes " +
         std::to_string(p.lifetime.bytes);
  if (p.auth.method == iked::AuthMethod::Psk) {
    out += " psk 0x";
    char hex[3];
    for (std::uint8_t byte : p.auth.psk) {
      std::snprintf(hex, sizeof hex, "%02x", byte);
      out += hex;
    }
  } else if (p.auth.eap_mschapv2) {
    out += " eap \"MSCHAP_V2\"";
  } else {
    out += " ";
    out += auth_method_text(p.auth.method);
  }
  for (const iked::ConfigAttribute& c : p.config) {
    out += " config ";
    out += iked::name_of(NameTable::Config, c.type, static_cast<unsigned>(c.address.family));
    out += " " + host_text(c.address);
  }
  if (!p.iface.empty()) out += " iface " + p.iface;
  if (!p.tag.empty()) out += " tag \"" + p.tag + "\"";
  if (p.tap != 0) out += " tap \"enc" + std::to_string(p.tap) + "\"";
  out += "\n";
  return out;
}

std::string render_iked_config(const iked::Config& config) {
  std::string out;
  for (const auto& [kind, index] : config.order)
    out += kind == iked::Config::Kind::User ? render_iked_user(config.users[index])
                                            : render_iked_policy(config.policies[index]);
  return out;
}

}  // namespace ipsecctl::output
