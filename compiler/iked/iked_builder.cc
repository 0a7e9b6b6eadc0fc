#include "compiler/iked/iked_builder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/unique_fd.h"
#include "parser/iked/iked_numbers.h"
#include "parser/iked/iked_transforms.h"

namespace ipsecctl::iked {
namespace {

// iked's limits (iked.h, and the system's for user names).
constexpr std::size_t kIdSize = 1024;
constexpr std::size_t kTagSize = 64;
constexpr std::size_t kUserNameSize = 256;
constexpr std::size_t kPasswordSize = 256;
constexpr std::size_t kMaxProtocols = 16;
constexpr std::size_t kMaxConfig = 16;
constexpr off_t kKeySizeLimit = 1024;

Address from_sockaddr(const sockaddr* sa) {
  Address a;
  a.family = sa->sa_family;
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    std::memcpy(a.bytes.data(), &in->sin_addr, 4);
  } else if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    std::memcpy(a.bytes.data(), &in6->sin6_addr, 16);
    a.scope_id = in6->sin6_scope_id;
  }
  return a;
}

void set_mask(Address& a, int mask) {
  if (mask == -1)
    a.mask = a.family == AF_INET ? 32 : 128;
  else
    a.mask = static_cast<std::uint8_t>(mask);
}

bool is_link_local(const Address& a) { return a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80; }

// iked compares addresses as the raw 32-bit words of the sockaddr, on
// this (little-endian) machine: that is the order its flows print in.
std::uint32_t word(const Address& a, int i) {
  std::uint32_t w;
  std::memcpy(&w, a.bytes.data() + 4 * i, 4);
  return w;
}

int compare_sockaddr(const Address& a, const Address& b) {
  if (a.family == AF_UNSPEC || b.family == AF_UNSPEC) return 0;
  if (a.family != b.family) return a.family > b.family ? 1 : -1;
  if (a.family == AF_INET) {
    const std::uint32_t x = word(a, 0), y = word(b, 0);
    return x > y ? 1 : x < y ? -1 : 0;
  }
  for (int i = 3; i >= 0; --i) {
    const std::uint32_t x = word(a, i), y = word(b, i);
    if (x != y) return x > y ? 1 : -1;
  }
  return 0;
}

int compare_addr(const Address& a, const Address& b, bool ports) {
  int diff = compare_sockaddr(a, b);
  if (diff == 0) diff = static_cast<int>(a.mask) - static_cast<int>(b.mask);
  if (diff == 0 && ports) diff = static_cast<int>(a.port_be) - static_cast<int>(b.port_be);
  return diff;
}

int compare_flow(const Flow& a, const Flow& b) {
  int diff = a.ipproto - b.ipproto;
  if (diff == 0) diff = compare_addr(a.dst, b.dst, true);
  if (diff == 0) diff = compare_addr(a.src, b.src, true);
  if (diff == 0) {
    const Address none;
    diff = compare_addr(a.prenat ? *a.prenat : none, b.prenat ? *b.prenat : none, false);
  }
  return diff;
}

Transform to_transform(TransformType type, const TransformName& name) {
  return Transform{type, name.id, static_cast<std::uint16_t>(name.length * 8),
                   static_cast<std::uint16_t>(name.keylength * 8)};
}

// iked's copy_transforms(): what the policy names, else the defaults.
void copy_transforms(TransformType type, const std::vector<const TransformName*>& named,
                     std::span<const Transform> defaults, std::vector<Transform>& out) {
  if (!named.empty()) {
    for (const TransformName* n : named) out.push_back(to_transform(type, *n));
    return;
  }
  for (const Transform& t : defaults)
    if (t.type == type) out.push_back(t);
}

}  // namespace

void ConfigBuilder::load_interfaces() {
  interfaces_loaded_ = true;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return;
  for (ifaddrs* ifa = list; ifa != nullptr; ifa = ifa->ifa_next) {
    if (ifa->ifa_addr == nullptr) continue;
    const int family = ifa->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6 && family != AF_PACKET) continue;
    InterfaceAddress entry;
    entry.name = ifa->ifa_name;
    entry.family = family;
    if (family != AF_PACKET) entry.address = from_sockaddr(ifa->ifa_addr);
    interfaces_.push_back(std::move(entry));
  }
  ::freeifaddrs(list);
}

void ConfigBuilder::made(Config::Kind kind, std::size_t index) {
  config_.order.emplace_back(kind, index);
  ++rules_;
  if (listener_) listener_(config_, kind, index);
}

std::optional<HostList> ConfigBuilder::host_interface(const std::string& name) {
  if (!interfaces_loaded_) load_interfaces();
  const auto exists = std::any_of(interfaces_.begin(), interfaces_.end(), [&](const auto& i) {
    return i.family == AF_PACKET && i.name.compare(0, IFNAMSIZ, name, 0, IFNAMSIZ) == 0;
  });
  if (!exists) return std::nullopt;
  HostList hosts;
  for (const InterfaceAddress& i : interfaces_) {
    if (i.family == AF_PACKET || i.name.compare(0, IFNAMSIZ, name, 0, IFNAMSIZ) != 0) continue;
    Host h;
    h.address = i.address;
    if (i.family == AF_INET6 && is_link_local(h.address)) continue;
    set_mask(h.address, i.family == AF_INET ? 32 : 128);
    h.name = i.name;
    hosts.push_back(std::move(h));
  }
  if (hosts.empty()) return std::nullopt;
  return hosts;
}

std::optional<HostList> ConfigBuilder::host_numeric(const std::string& text, int mask) {
  // The common forms first: what inet_pton() takes, getaddrinfo() takes
  // the same way (it is only much slower, and a file may hold 10^5 hosts).
  Host fast;
  if (::inet_pton(AF_INET, text.c_str(), fast.address.bytes.data()) == 1)
    fast.address.family = AF_INET;
  else if (::inet_pton(AF_INET6, text.c_str(), fast.address.bytes.data()) == 1)
    fast.address.family = AF_INET6;
  if (fast.address.family != 0) {
    set_mask(fast.address, mask);
    fast.address.network = mask > -1;
    return HostList{std::move(fast)};
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* res = nullptr;
  if (::getaddrinfo(text.c_str(), nullptr, &hints, &res) != 0) return std::nullopt;
  Host h;
  h.address = from_sockaddr(res->ai_addr);
  set_mask(h.address, mask);
  ::freeaddrinfo(res);
  h.address.network = mask > -1;
  return HostList{std::move(h)};
}

std::optional<HostList> ConfigBuilder::host_dns(const std::string& text, int mask,
                                                Reporter& reporter) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* res0 = nullptr;
  if (::getaddrinfo(text.c_str(), nullptr, &hints, &res0) != 0) return std::nullopt;
  HostList hosts;
  for (addrinfo* res = res0; res != nullptr; res = res->ai_next) {
    if (res->ai_family != AF_INET && res->ai_family != AF_INET6) continue;
    Host h;
    h.address = from_sockaddr(res->ai_addr);
    if (h.address.family == AF_INET) {
      set_mask(h.address, mask == -1 ? 32 : mask);
    } else if (mask != -1) {
      ::freeaddrinfo(res0);
      reporter.fatal(std::string("host_dns: cannot apply netmask on non-IPv4 address: ") +
                     std::strerror(errno));
    }
    hosts.push_back(std::move(h));
  }
  ::freeaddrinfo(res0);
  if (hosts.empty()) return std::nullopt;
  return hosts;
}

std::optional<HostList> ConfigBuilder::host(const std::string& word, Reporter& reporter) {
  std::string text = word;
  int mask = -1;
  if (const auto slash = text.find('/'); slash != std::string::npos) {
    const NumberResult n = strtonum(text.substr(slash + 1), 0, 128);
    if (n.problem != nullptr) {
      reporter.plain(std::string("netmask is ") + n.problem + ": " + text.substr(slash));
      return std::nullopt;
    }
    mask = static_cast<int>(n.value);
    text.resize(slash);
  }
  if (auto hosts = host_interface(text)) return hosts;
  if (auto hosts = host_numeric(text, mask)) return hosts;
  if (!offline_)
    if (auto hosts = host_dns(text, mask, reporter)) return hosts;
  reporter.plain("no IP address found for " + word);
  return std::nullopt;
}

std::optional<int> ConfigBuilder::protocol_number(const std::string& name) {
  protoent entry{};
  protoent* found = nullptr;
  char buffer[1024];
  if (::getprotobyname_r(name.c_str(), &entry, buffer, sizeof buffer, &found) != 0 ||
      found == nullptr)
    return std::nullopt;
  return found->p_proto;
}

std::optional<std::uint16_t> ConfigBuilder::service_port(const std::string& name,
                                                         const char* proto) {
  servent entry{};
  servent* found = nullptr;
  char buffer[1024];
  if (::getservbyname_r(name.c_str(), proto, &entry, buffer, sizeof buffer, &found) != 0 ||
      found == nullptr)
    return std::nullopt;
  return static_cast<std::uint16_t>(found->s_port);
}

Host ConfigBuilder::expand_keyword(const Host& host, int family, Reporter& reporter) {
  const bool v4 = family == AF_INET;
  const char* text = host.kind == HostKind::Any ? (v4 ? "0.0.0.0/0" : "::/0")
                                                 : (v4 ? "0.0.0.0" : "::");
  auto expanded = this->host(text, reporter);
  return expanded->front();
}

bool ConfigBuilder::add_flow(const Host& src, const Host& dst, int ipproto, Policy& policy,
                             Reporter& reporter) {
  if (src.address.family != dst.address.family) {
    reporter.error("cannot mix different address families.");
    return false;
  }
  Flow flow;
  flow.src = src.address;
  flow.dst = dst.address;
  flow.prenat = src.srcnat;
  flow.ipproto = ipproto;
  auto at = std::lower_bound(policy.flows.begin(), policy.flows.end(), flow,
                             [](const Flow& a, const Flow& b) { return compare_flow(a, b) < 0; });
  if (at != policy.flows.end() && compare_flow(*at, flow) == 0) {
    reporter.warning("create_ike: duplicate flow");
    return true;
  }
  policy.flows.insert(at, std::move(flow));
  return true;
}

bool ConfigBuilder::add_flows(const Host& src, const Host& dst, int ipproto, Policy& policy,
                              Reporter& reporter) {
  const int src_af = src.address.family;
  const int dst_af = dst.address.family;
  if (src_af == AF_UNSPEC && dst_af == AF_UNSPEC) {
    // Both `any` (or dynamic): one flow for each family.
    for (int family : {AF_INET, AF_INET6})
      if (!add_flow(expand_keyword(src, family, reporter), expand_keyword(dst, family, reporter),
                    ipproto, policy, reporter))
        return false;
    return true;
  }
  if (src_af == AF_UNSPEC)
    return add_flow(expand_keyword(src, dst_af, reporter), dst, ipproto, policy, reporter);
  if (dst_af == AF_UNSPEC)
    return add_flow(src, expand_keyword(dst, src_af, reporter), ipproto, policy, reporter);
  return add_flow(src, dst, ipproto, policy, reporter);
}

bool ConfigBuilder::build_proposals(const TransformSets& sets, bool ike, int saproto,
                                    Policy& policy, Reporter& reporter) {
  (void)saproto;
  if (!sets || sets->empty()) {
    if (ike) {
      policy.proposals.push_back(Proposal{true, {default_ike_aead_transforms().begin(),
                                                 default_ike_aead_transforms().end()}});
      policy.proposals.push_back(
          Proposal{true, {default_ike_transforms().begin(), default_ike_transforms().end()}});
    } else {
      // On Linux iked offers no AES-GCM child SA by default (PF_KEY).
      policy.proposals.push_back(
          Proposal{false, {default_esp_transforms().begin(), default_esp_transforms().end()}});
    }
    return true;
  }
  for (const TransformSetPtr& maybe : *sets) {
    const TransformSet& set = *maybe;  // create_ike() refused missing lists
    unsigned implicit = 0, explicit_auth = 0;
    for (const TransformName* e : set.encr) (e->implicit_auth ? implicit : explicit_auth)++;
    if (ike) {
      for (const TransformName* g : set.dh) {
        if (g->id == kDhNone) {
          reporter.error("IKE group can not be \"none\".");
          return false;
        }
      }
    }
    if (!set.integ.empty()) ++explicit_auth;
    if (ike && !set.esn.empty()) {
      reporter.error("cannot use ESN with ikesa.");
      return false;
    }
    if (implicit != 0 && implicit != set.encr.size()) {
      reporter.error(
          "cannot mix encryption transforms with implicit and non-implicit authentication");
      return false;
    }
    if (implicit != 0 && !set.integ.empty()) {
      reporter.error("authentication is implicit for given encryption transforms");
      return false;
    }
    if (explicit_auth == 0 && ike) {
      Proposal p{true, {}};
      const auto defaults = default_ike_aead_transforms();
      copy_transforms(TransformType::Encr, set.encr, defaults, p.transforms);
      copy_transforms(TransformType::Dh, set.dh, defaults, p.transforms);
      copy_transforms(TransformType::Prf, set.prf, defaults, p.transforms);
      policy.proposals.push_back(std::move(p));
    }
    // (A child SA of AEAD transforms only: iked's Linux build makes no
    // proposal of it at all, since PF_KEY there cannot install one.)
    if (implicit == 0) {
      Proposal p{ike, {}};
      const auto defaults = ike ? default_ike_transforms() : default_esp_transforms();
      copy_transforms(TransformType::Integ, set.integ, defaults, p.transforms);
      copy_transforms(TransformType::Encr, set.encr, defaults, p.transforms);
      copy_transforms(TransformType::Dh, set.dh, defaults, p.transforms);
      if (ike)
        copy_transforms(TransformType::Prf, set.prf, defaults, p.transforms);
      else
        copy_transforms(TransformType::Esn, set.esn, defaults, p.transforms);
      policy.proposals.push_back(std::move(p));
    }
  }
  return true;
}

// The policy's name, interface, identities and filters, with iked's
// limits; false after its message.
bool ConfigBuilder::name_policy(const IkeRule& rule, unsigned id, Policy& policy,
                                Reporter& reporter) {
  if (rule.name) {
    if (rule.name->size() >= kIdSize) {
      reporter.error("name too long");
      return false;
    }
    policy.name = *rule.name;
  } else {
    policy.name = "policy" + std::to_string(id);
  }
  if (rule.iface) {
    if (rule.iface->compare(0, 3, "sec") == 0) policy.flags |= kRouting;
    if (::if_nametoindex(rule.iface->c_str()) == 0) {
      reporter.error("invalid iface");
      return false;
    }
    policy.iface = *rule.iface;
  }
  if (rule.ids.srcid) {
    if (rule.ids.srcid->size() >= kIdSize) {
      reporter.error("srcid too long");
      return false;
    }
    policy.srcid = *rule.ids.srcid;
  }
  if (rule.ids.dstid) {
    if (rule.ids.dstid->size() >= kIdSize) {
      reporter.error("dstid too long");
      return false;
    }
    policy.dstid = *rule.ids.dstid;
  }
  if (rule.filters) {
    if (rule.filters->tag) policy.tag = rule.filters->tag->substr(0, kTagSize - 1);
    policy.tap = rule.filters->tap;
  }

  return true;
}

// Its local and peer addresses (or, without them, a single flow's ends),
// after iked's checks, in iked's order; false after its message.
bool ConfigBuilder::choose_endpoints(const IkeRule& rule, Policy& policy, Reporter& reporter) {
  const Host* local = rule.peers.local ? &rule.peers.local->front() : nullptr;
  const Host* peer = rule.peers.peer ? &rule.peers.peer->front() : nullptr;
  if (local && peer && local->address.family != AF_UNSPEC && peer->address.family != AF_UNSPEC &&
      local->address.family != peer->address.family)
    reporter.fatal("create_ike: peer address family mismatch");
  if (policy.family != AF_UNSPEC &&
      ((local && local->address.family != AF_UNSPEC && local->address.family != policy.family) ||
       (peer && peer->address.family != AF_UNSPEC && peer->address.family != policy.family)))
    reporter.fatal("create_ike: policy address family mismatch");
  if (!local && !peer) {
    // Without local and peer, a single flow's ends are the peers.
    if (rule.hosts.src.size() == 1) local = &rule.hosts.src.front();
    if (rule.hosts.dst.size() == 1) peer = &rule.hosts.dst.front();
  }
  if (!local && !peer) {
    reporter.error("could not get local/peer specification");
    return false;
  }
  if ((policy.flags & kActive) != 0 &&
      (!peer || peer->address.network || (local && local->address.network))) {
    reporter.error("active mode requires local/peer address");
    return false;
  }
  // `ikesa` or `childsa` with no transform after it: from here on iked
  // dereferences the missing list (at the latest when it frees the rule)
  // and dies of SIGSEGV. We refuse the rule instead.
  for (const auto* sets : {&rule.ike_sas, &rule.child_sas}) {
    if (*sets && std::any_of((*sets)->begin(), (*sets)->end(),
                             [](const auto& set) { return set == nullptr; })) {
      reporter.error(std::string(sets == &rule.ike_sas ? "ikesa" : "childsa") +
                     " without a transform (iked crashes on this)");
      return false;
    }
  }
  if (local) {
    policy.local = local->address;
    policy.local.port_be = 0;
    if (policy.family == AF_UNSPEC) policy.family = local->address.family;
  }
  if (peer) {
    policy.peer = peer->address;
    policy.peer.port_be = 0;
    if (policy.family == AF_UNSPEC) policy.family = peer->address.family;
  }
  return true;
}

// Sources and destinations pair up in order; a longer list's rest is
// left out, as iked does.
void ConfigBuilder::add_rule_flows(const IkeRule& rule, Policy& policy, Reporter& reporter) {
  const std::size_t pairs = std::min(rule.hosts.src.size(), rule.hosts.dst.size());
  for (std::size_t i = 0; i < pairs; ++i) {
    const Host& src = rule.hosts.src[i];
    const Host& dst = rule.hosts.dst[i];
    if (policy.ipprotos.empty()) {
      if (!add_flows(src, dst, 0, policy, reporter)) reporter.fatal("create_ike: invalid flow");
    }
    for (int proto : policy.ipprotos)
      if (!add_flows(src, dst, proto, policy, reporter)) reporter.fatal("create_ike: invalid flow");
  }

}

bool ConfigBuilder::create_ike(IkeRule rule, Reporter& reporter) {
  Policy policy;
  policy.origin = reporter.here();
  const unsigned id = ++policy_id_;
  policy.family = rule.family;
  policy.saproto = rule.saproto;
  if (rule.ipprotos.size() > kMaxProtocols) {
    reporter.error("too many protocols");
    return false;
  }
  policy.ipprotos = rule.ipprotos;
  policy.flags = rule.flags;
  policy.auth = rule.auth;
  if (!name_policy(rule, id, policy, reporter)) return false;
  if (!choose_endpoints(rule, policy, reporter)) return false;
  policy.ike_rekey_seconds = static_cast<std::uint32_t>(rule.ike_lifetime);
  policy.lifetime = rule.lifetime;

  if (!build_proposals(rule.ike_sas, true, rule.saproto, policy, reporter)) return false;
  if (!build_proposals(rule.child_sas, false, rule.saproto, policy, reporter)) return false;
  add_rule_flows(rule, policy, reporter);

  for (const ConfigValue& value : rule.config) {
    for (const Host& h : value.hosts) {
      if (policy.config.size() >= kMaxConfig) break;
      policy.config.push_back(ConfigAttribute{value.type, value.request, h.address});
    }
  }

  config_.policies.push_back(std::move(policy));
  made(Config::Kind::Policy, config_.policies.size() - 1);
  return true;
}

bool ConfigBuilder::create_user(const std::string& name, const std::string& password,
                                Reporter& reporter) {
  if (name.empty() || name.size() >= kUserNameSize) {
    reporter.error("invalid user name");
    return false;
  }
  if (password.empty() || password.size() >= kPasswordSize) {
    reporter.error("invalid password");
    return false;
  }
  config_.users.push_back(User{name, password, reporter.here()});
  made(Config::Kind::User, config_.users.size() - 1);
  return true;
}

std::optional<std::string> ConfigBuilder::key_file(const std::string& path, Reporter& reporter) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) reporter.fatal("open " + path + ": " + std::strerror(errno));
  // (openiked 7.2 does not check a key file's owner or mode.)
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    reporter.fatal("parsekeyfile: stat " + path + ": " + std::strerror(errno));
  if (st.st_size > kKeySizeLimit || st.st_size == 0)
    reporter.fatal(path + ": key too " + (st.st_size != 0 ? "large" : "small"));
  std::string hex(static_cast<std::size_t>(st.st_size), '\0');
  if (::read(fd.get(), hex.data(), hex.size()) < static_cast<ssize_t>(hex.size()))
    reporter.fatal(std::string("parsekeyfile: read: ") + std::strerror(errno));
  return hex;
}

}  // namespace ipsecctl::iked
