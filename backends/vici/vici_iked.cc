#include "backends/vici/vici_iked.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "backends/ownership.h"
#include "backends/vici/vici_auth.h"
#include "parser/iked/iked_transforms.h"

namespace ipsecctl::backends::vici {
namespace {

using iked::Address;
using iked::Policy;
using iked::Transform;
using iked::TransformType;

std::string seconds(std::uint64_t s) { return std::to_string(s) + "s"; }

compiler::IpAddress ip_of(const Address& a) {
  compiler::IpAddress ip;
  ip.family = a.family == AF_INET6 ? compiler::Family::Inet6 : compiler::Family::Inet;
  ip.bytes = a.bytes;
  ip.prefixlen = a.network ? a.mask : (a.family == AF_INET6 ? 128 : 32);
  return ip;
}

std::string address_text(const Address& a) {
  std::string text = compiler::format_address_hex(ip_of(a));
  if (a.network) text += "/" + std::to_string(a.mask);
  return text;
}

// iked's `dynamic` (the address the peer is given) is 0.0.0.0 or ::,
// written without a prefix.
bool is_dynamic(const Address& a) {
  return !a.network && std::all_of(a.bytes.begin(), a.bytes.end(), [](auto b) { return b == 0; });
}

std::string selector(const Address& a, int proto) {
  std::string ts;
  if (is_dynamic(a)) {
    ts = "dynamic";
  } else {
    const compiler::IpAddress ip = ip_of(a);
    ts = compiler::format_address_hex(compiler::network_of(ip)) + "/" +
         std::to_string(ip.prefixlen);
  }
  const unsigned port = ntohs(a.port_be);
  if (proto != 0 || port != 0)
    ts += "[" + (proto != 0 ? std::to_string(proto) : std::string("%any")) +
          (port != 0 ? "/" + std::to_string(port) : std::string()) + "]";
  return ts;
}

// A name swanctl.conf can hold as a section name.
std::string section_name(const std::string& text) {
  std::string out = text;
  for (char& c : out)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '/' ||
          c == '[' || c == ']'))
      c = '_';
  return out.empty() ? std::string("_") : out;
}

std::string name_of_end(const Address& a, int proto) {
  std::string out = is_dynamic(a) ? std::string("dynamic") : address_text(a);
  const unsigned port = ntohs(a.port_be);
  if (proto != 0 || port != 0)
    out += "[" + (proto != 0 ? std::to_string(proto) : std::string("any")) +
           (port != 0 ? "/" + std::to_string(port) : std::string()) + "]";
  return section_name(out);
}

// "/C=DE/O=x/CN=gw" (OpenSSL's way, iked's) as charon writes a DN.
std::string identity(const std::string& id) {
  if (id.empty() || id[0] != '/') return identity_text(id);
  std::string out;
  std::size_t at = 1;
  while (at <= id.size()) {
    std::size_t next = id.find('/', at);
    if (next == std::string::npos) next = id.size();
    if (next > at) {
      if (!out.empty()) out += ", ";
      out += id.substr(at, next - at);
    }
    at = next + 1;
  }
  return out;
}

std::optional<std::string> transform_name(const Transform& t, bool ike) {
  const unsigned bits = t.key_bits != 0 ? t.key_bits : t.length_bits;
  switch (t.type) {
    case TransformType::Encr:
      switch (t.id) {
        case 3: return "3des";
        case 6: return "cast128";
        case 11: return "null";
        case 12: return "aes" + std::to_string(bits);
        case 13: return "aes" + std::to_string(bits) + "ctr";
        case 19: return "aes" + std::to_string(bits) + "gcm12";
        case 20: return "aes" + std::to_string(bits) + "gcm16";
        case 21: return "aes" + std::to_string(bits) + "gmac";
        case 28: return "chacha20poly1305";
        default: return std::nullopt;  // blowfish: charon has no 160-bit one
      }
    case TransformType::Integ:
      switch (t.id) {
        case 1: return "md5";
        case 2: return "sha1";
        case 12: return "sha256";
        case 13: return "sha384";
        case 14: return "sha512";
        default: return std::nullopt;
      }
    case TransformType::Prf:
      switch (t.id) {
        case 1: return "prfmd5";
        case 2: return "prfsha1";
        case 5: return "prfsha256";
        case 6: return "prfsha384";
        case 7: return "prfsha512";
        default: return std::nullopt;
      }
    case TransformType::Dh: {
      static const std::map<unsigned, std::string> kGroups = {
          {0, ""},          {1, "modp768"},   {2, "modp1024"},  {5, "modp1536"},
          {14, "modp2048"}, {15, "modp3072"}, {16, "modp4096"}, {17, "modp6144"},
          {18, "modp8192"}, {19, "ecp256"},   {20, "ecp384"},   {21, "ecp521"},
          {25, "ecp192"},   {26, "ecp224"},   {27, "ecp224bp"}, {28, "ecp256bp"},
          {29, "ecp384bp"}, {30, "ecp512bp"}, {31, "curve25519"}};
      auto it = kGroups.find(t.id);
      if (it == kGroups.end()) return std::nullopt;  // sntrup761x25519
      return it->second;
    }
    case TransformType::Esn:
      if (ike) return std::nullopt;
      return std::string(t.id == 1 ? "esn" : "noesn");
  }
  return std::nullopt;
}

// A proposal in charon's words: every transform of each type, types in
// charon's order (enc, integ, prf, group, esn); "" groups (none) left out.
std::optional<std::string> proposal_text(const iked::Proposal& p, std::string& unknown) {
  std::string out;
  for (TransformType type : {TransformType::Encr, TransformType::Integ, TransformType::Prf,
                             TransformType::Dh, TransformType::Esn}) {
    for (const Transform& t : p.transforms) {
      if (t.type != type) continue;
      auto name = transform_name(t, p.ike);
      if (!name) {
        unknown = std::to_string(static_cast<int>(t.type)) + "/" + std::to_string(t.id);
        return std::nullopt;
      }
      if (name->empty()) continue;
      if (!out.empty()) out += "-";
      out += *name;
    }
  }
  return out;
}

// What charon cannot take from a policy (yet, or at all).
std::optional<std::string> refusal(const Policy& p) {
  if (p.tap != 0) return std::string("tap: Linux has no enc(4) interfaces");
  if (p.flows.empty()) return std::string("the policy has no flow");
  for (const iked::Flow& f : p.flows)
    if (f.prenat) return std::string("flow NAT (from A (B)) has no strongSwan equivalent");
  if ((p.flags & iked::kActive) != 0 && p.peer.family == 0)
    return std::string("an active policy needs a peer for charon to initiate to");
  return std::nullopt;
}

// `config NAME address` (this side hands them out): an address pool per
// `config address` (charon's pools are one range each), the other
// attributes riding with the first pool. `request address` (this side
// asks): virtual IPs. Pools are named after the connection.
struct Addressing {
  std::vector<ViciPool> pools;
  std::vector<std::string> vips;
};

std::optional<Addressing> addressing(const Policy& p, const std::string& connection,
                                     Diagnostics& diag) {
  Addressing out;
  std::vector<ViciSection> bodies;
  std::map<std::string, std::vector<std::string>> attributes;  // charon's key: values
  for (const iked::ConfigAttribute& c : p.config) {
    const bool address = c.type == iked::kCfgIp4Address || c.type == iked::kCfgIp6Address;
    if (c.request) {
      if (address) {
        out.vips.push_back(c.address.family == 0 ? "0.0.0.0" : address_text(c.address));
      } else {
        diag.warning_at(p.origin, "request " + std::string(iked::name_of(
                                                   iked::NameTable::Config, c.type)) +
                                      " is left to charon (it asks for DNS servers itself)");
      }
      continue;
    }
    if (address) {
      const Address& a = c.address;
      const std::string range = a.network ? address_text(a)
                                          : address_text(a) + (a.family == AF_INET6 ? "/128"
                                                                                     : "/32");
      bodies.push_back({value("addrs", range)});
      continue;
    }
    const char* key = nullptr;
    switch (c.type) {
      case iked::kCfgIp4Netmask: key = "netmask"; break;
      case iked::kCfgIp4Dns: case iked::kCfgIp6Dns: key = "dns"; break;
      case iked::kCfgIp4Nbns: case iked::kCfgIp6Nbns: key = "nbns"; break;
      case iked::kCfgIp4Dhcp: case iked::kCfgIp6Dhcp: key = "dhcp"; break;
      case iked::kCfgIp4Subnet: case iked::kCfgIp6Subnet: key = "subnet"; break;
      case iked::kCfgIp4Server: case iked::kCfgIp6Server: key = "server"; break;
      default: break;
    }
    if (key == nullptr) {
      diag.error_at(p.origin, "a configuration attribute of this policy has no strongSwan "
                              "equivalent");
      return std::nullopt;
    }
    const bool subnet = c.type == iked::kCfgIp4Subnet || c.type == iked::kCfgIp6Subnet;
    attributes[key].push_back(subnet ? address_text(c.address)
                                     : compiler::format_address_hex(ip_of(c.address)));
  }
  if (bodies.empty() && !attributes.empty()) {
    diag.error_at(p.origin, "charon sends configuration attributes with the addresses of a "
                            "pool: this policy has `config` attributes but no `config address`",
                  "add config address ADDRESS/PREFIX, the pool its clients get addresses from");
    return std::nullopt;
  }
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    ViciSection body = std::move(bodies[i]);
    if (i == 0)
      for (auto& [key, values] : attributes) body.push_back(list(key, values));
    ViciPool pool;
    pool.name = connection + (i == 0 ? std::string() : "-" + std::to_string(i + 1));
    pool.body = {section(pool.name, std::move(body))};
    const std::vector<std::uint8_t> bytes = encode(pool.body);
    pool.digest = digest_bytes(bytes.data(), bytes.size());
    out.pools.push_back(std::move(pool));
  }
  return out;
}

// The fields of an ike rule that say how it authenticates, for vici_auth.
compiler::IkeEntry auth_shim(const Policy& p) {
  compiler::IkeEntry r;
  r.version = IkeVersion::V2;
  r.origin = p.origin;
  if (!p.srcid.empty()) r.srcid = compiler::Identity{p.srcid, compiler::guess_id_type(p.srcid)};
  if (!p.dstid.empty()) r.dstid = compiler::Identity{p.dstid, compiler::guess_id_type(p.dstid)};
  auto endpoint = [](const Address& a) {
    compiler::Endpoint e;
    e.address = ip_of(a);
    e.network = a.network;
    e.name = address_text(a);
    return e;
  };
  if (p.peer.family != 0 && !p.peer.network) r.peer = endpoint(p.peer);
  if (p.local.family != 0 && !p.local.network) r.local = endpoint(p.local);
  r.psk = p.auth.method == iked::AuthMethod::Psk;
  r.psk_text.assign(p.auth.psk.begin(), p.auth.psk.end());
  return r;
}

// One child per flow (the same pair of ends once), each with the
// policy's child proposals, lifetimes and mode; named in `c.children`.
ViciSection child_sections(const Policy& p, const std::vector<std::string>& child_proposals,
                           bool active, std::optional<unsigned> if_id, ViciConnection& c) {
  ViciSection children;
  std::set<std::string> names;
  const std::uint64_t life = p.lifetime.seconds;
  for (const iked::Flow& f : p.flows) {
    std::string name = "from-" + name_of_end(f.src, f.ipproto) + "-to-" +
                       name_of_end(f.dst, f.ipproto);
    if (!names.insert(name).second) continue;
    ViciSection child{
        value("mode", (p.flags & iked::kTransport) != 0 ? "transport" : "tunnel"),
        list("local_ts", {selector(f.src, f.ipproto)}),
        list("remote_ts", {selector(f.dst, f.ipproto)}),
        list(p.saproto == 2 ? "ah_proposals" : "esp_proposals", child_proposals),
        value("life_time", seconds(life)),
        value("rekey_time", seconds(life - life / 10)),
        value("life_bytes", std::to_string(p.lifetime.bytes)),
        value("rekey_bytes", std::to_string(p.lifetime.bytes - p.lifetime.bytes / 10)),
        value("rand_time", "0s"),
        value("start_action", active ? "trap" : "none"),
        value("dpd_action", active ? "trap" : "clear"),
        value("close_action", active ? "trap" : "none")};
    if ((p.flags & iked::kIpcomp) != 0) child.push_back(value("ipcomp", "yes"));
    if (if_id) {
      child.push_back(value("if_id_in", std::to_string(*if_id)));
      child.push_back(value("if_id_out", std::to_string(*if_id)));
    }
    children.push_back(section(name, child));
    c.children.push_back(ViciChild{name, active, if_id, p.origin});
  }
  return children;
}

struct Translator {
  const iked::Config& config;
  Diagnostics& diag;
  const SourceAddressLookup& source_for;
  keys::KeyDirectory* keys;
  const InterfaceIdLookup& if_ids;
  std::shared_ptr<const ViciPrivateKey> private_key;

  std::optional<ViciConnection> policy(const Policy& p);
  // Each ikesa and childsa group as charon's proposal; false after
  // reporting what charon lacks.
  bool proposals(const Policy& p, std::vector<std::string>& ike_proposals,
                 std::vector<std::string>& child_proposals);
  // The keys and certificates of a policy without psk, from iked's layout;
  // false after reporting what is missing.
  bool sign_with_keys(const Policy& p, const compiler::IkeEntry& shim, ViciConnection& c,
                      ViciSection& local, ViciSection& remote);
};

bool Translator::proposals(const Policy& p, std::vector<std::string>& ike_proposals,
                           std::vector<std::string>& child_proposals) {
  for (const iked::Proposal& proposal : p.proposals) {
    std::string unknown;
    auto text = proposal_text(proposal, unknown);
    if (!text) {
      diag.error_at(p.origin, "a transform of this policy (type/id " + unknown +
                                  ") has no strongSwan equivalent");
      return false;
    }
    (proposal.ike ? ike_proposals : child_proposals).push_back(*text);
  }
  if (child_proposals.empty()) {
    // iked's Linux build offers no AES-GCM child SA (PF_KEY): charon can.
    diag.error_at(p.origin, "no child SA proposal is left: iked on Linux drops AEAD-only "
                            "childsa groups, and so does this translation",
                  "add a childsa with a cipher and an auth transform");
    return false;
  }

  return true;
}

bool Translator::sign_with_keys(const Policy& p, const compiler::IkeEntry& shim,
                                ViciConnection& c, ViciSection& local, ViciSection& remote) {
  if (shim.psk || keys == nullptr) return true;
  auto keep_private_key = [&](const keys::PemFile& k, const std::string& type) {
    if (!private_key)
      private_key = std::make_shared<const ViciPrivateKey>(
          ViciPrivateKey{k.path, type, k.pem, digest_bytes(k.pem.data(), k.pem.size())});
    c.private_key = private_key;
  };
  if (p.auth.eap_mschapv2) {
    // The EAP client has no key to check: only this side's credentials.
    const std::string own = own_identity(shim, source_for);
    auto creds = keys->local(own, p.origin, diag);
    if (!creds) return false;
    keep_private_key(creds->private_key, creds->key_type);
    if (!own.empty() && p.srcid.empty()) local.push_back(value("id", own));
    const keys::PemFile& mine = creds->certificate ? *creds->certificate : *creds->public_key;
    c.key_files[mine.pem] = mine.path;
    local.push_back(list(creds->certificate ? "certs" : "pubkeys", {mine.pem}));
    return true;
  }
  auto rule_keys = keys_for(shim, *keys, diag, source_for);
  if (!rule_keys) return false;
  keep_private_key(rule_keys->local.private_key, rule_keys->local.key_type);
  add_keys(*rule_keys, local, remote, c);
  return true;
}

std::optional<ViciConnection> Translator::policy(const Policy& p) {
  if (auto why = refusal(p)) {
    diag.error_at(p.origin, *why);
    return std::nullopt;
  }
  if ((p.flags & (iked::kQuick | iked::kSkip | iked::kDefault)) != 0)
    diag.warning_at(p.origin, "quick, skip and default are iked's policy lookup: charon "
                              "chooses a connection by addresses and identities",
                    "give each policy the peer and identities that tell it apart");
  if (!p.tag.empty())
    diag.warning_at(p.origin, "tag \"" + p.tag + "\" is ignored: Linux has no PF tags");

  std::vector<std::string> ike_proposals, child_proposals;
  if (!proposals(p, ike_proposals, child_proposals)) return std::nullopt;

  // iface: a route-based tunnel through an XFRM interface (sec(4) on
  // OpenBSD): its if_id marks the children's policies and SAs.
  std::optional<unsigned> if_id;
  if (!p.iface.empty()) {
    if (if_ids) if_id = if_ids(p.iface);
    if (!if_id || *if_id == 0) {
      diag.error_at(p.origin,
                    "iface " + p.iface + " is not an XFRM interface with an if_id above 0",
                    "make one: ip link add " + p.iface +
                        " type xfrm dev UPLINK if_id N && ip link set " + p.iface + " up");
      return std::nullopt;
    }
  }

  ViciConnection c;
  c.name = section_name(p.name);
  c.version = IkeVersion::V2;
  c.origin = p.origin;
  const bool active = (p.flags & iked::kActive) != 0 && !config.settings.passive;
  ViciSection ike{value("version", "2"), list("proposals", ike_proposals)};
  if (p.ike_rekey_seconds != 0) ike.push_back(value("rekey_time", seconds(p.ike_rekey_seconds)));
  ike.push_back(value("mobike", config.settings.mobike ? "yes" : "no"));
  ike.push_back(value("fragmentation", config.settings.fragmentation ? "yes" : "no"));
  if (p.local.family != 0) {
    ike.push_back(list("local_addrs", {address_text(p.local)}));
    if (!p.local.network) c.local = ip_of(p.local);
  }
  c.peer = p.peer.family != 0 ? address_text(p.peer) : std::string("%any");
  if (p.peer.family != 0 && !p.peer.network) c.remote = ip_of(p.peer);
  ike.push_back(list("remote_addrs", {c.peer}));
  auto addresses = addressing(p, c.name, diag);
  if (!addresses) return std::nullopt;
  if (!addresses->vips.empty()) ike.push_back(list("vips", addresses->vips));
  if (!addresses->pools.empty()) {
    std::vector<std::string> names;
    for (const ViciPool& pool : addresses->pools) names.push_back(pool.name);
    ike.push_back(list("pools", names));
    c.pools = std::move(addresses->pools);
  }

  const compiler::IkeEntry shim = auth_shim(p);
  const std::string auth = shim.psk ? "psk" : "pubkey";
  ViciSection local{value("auth", auth)};
  // EAP (iked is always its server): the client proves itself with
  // MSCHAPv2 against a `user`, this side with its key or certificate.
  ViciSection remote{value("auth", p.auth.eap_mschapv2 ? "eap-mschapv2" : auth)};
  if (p.auth.eap_mschapv2) remote.push_back(value("eap_id", "%any"));
  if (!p.srcid.empty()) local.push_back(value("id", identity(p.srcid)));
  if (!p.dstid.empty()) remote.push_back(value("id", identity(p.dstid)));
  if (!sign_with_keys(p, shim, c, local, remote)) return std::nullopt;
  ike.push_back(section("local", local));
  ike.push_back(section("remote", remote));
  if (active) {
    ike.push_back(value("keyingtries", "0"));
    ike.push_back(value("unique", config.settings.enforce_single_ikesa ? "replace" : "no"));
  }
  ike.push_back(value("dpd_delay", seconds(static_cast<std::uint64_t>(
                                       config.settings.dpd_check_interval.value_or(60)))));

  ViciSection children = child_sections(p, child_proposals, active, if_id, c);
  ike.push_back(section("children", children));
  c.load_conn = {section(c.name, ike)};
  const std::vector<std::uint8_t> bytes = encode(c.load_conn);
  c.digest = digest_bytes(bytes.data(), bytes.size());
  if (shim.psk) c.secret = secret_of(shim, c.name);
  return c;
}

}  // namespace

std::optional<std::vector<ViciConnection>> translate_iked(const iked::Config& config,
                                                          Diagnostics& diag,
                                                          const SourceAddressLookup& source_for,
                                                          keys::KeyDirectory* keys,
                                                          const InterfaceIdLookup& if_ids) {
  bool refused = false;
  Translator t{config, diag, source_for, keys, if_ids, nullptr};
  std::vector<ViciConnection> out;
  std::map<std::string, SourceLocation> seen;
  for (const Policy& p : config.policies) {
    auto c = t.policy(p);
    if (!c) {
      refused = true;
      continue;
    }
    if (auto [it, fresh] = seen.emplace(c->name, p.origin); !fresh) {
      diag.error_at(p.origin, "policy \"" + p.name + "\" is charon's connection " + c->name +
                                  ", as the policy at " + diag.describe(it->second) + " is",
                    "give every policy a name of its own");
      refused = true;
      continue;
    }
    out.push_back(std::move(*c));
  }
  if (refused) return std::nullopt;
  // The users (EAP secrets) go with the first connection: they belong to
  // the file, and a file without policies has nobody to ask for them.
  if (!config.users.empty() && out.empty())
    diag.warning_at(config.users.front().origin,
                    "users without a policy are not loaded: no connection would ask for them");
  for (const iked::User& user : config.users) {
    if (out.empty()) break;
    ViciSecret secret;
    secret.base_id = "eap-ipsecctl-" + user.name;
    secret.body = {value("type", "EAP"), value("data", user.password),
                   list("owners", {user.name})};
    const std::vector<std::uint8_t> bytes = encode(secret.body);
    secret.digest = digest_bytes(bytes.data(), bytes.size());
    out.front().user_secrets.push_back(std::move(secret));
  }
  return out;
}

}  // namespace ipsecctl::backends::vici
