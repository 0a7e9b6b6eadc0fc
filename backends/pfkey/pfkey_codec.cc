#include "backends/pfkey/pfkey_codec.h"

#include <arpa/inet.h>
#include <linux/ipsec.h>
#include <linux/pfkeyv2.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>

#include "backends/kernel/lower_plan.h"

namespace ipsecctl::backends::pfkey {

using compiler::AuthAlg;
using compiler::EncAlg;

namespace {

constexpr std::size_t kWord = 8;
constexpr std::size_t pad8(std::size_t n) { return (n + kWord - 1) & ~(kWord - 1); }

// Appends one message; fixes the header's length on destruction.
class Message {
 public:
  Message(std::vector<std::uint8_t>& out, std::uint8_t type, std::uint8_t satype,
          std::uint32_t seq, std::uint32_t pid)
      : out_(out), start_(out.size()) {
    sadb_msg h{};
    h.sadb_msg_version = PF_KEY_V2;
    h.sadb_msg_type = type;
    h.sadb_msg_satype = satype;
    h.sadb_msg_seq = seq;
    h.sadb_msg_pid = pid;
    raw(&h, sizeof h);
  }
  ~Message() {
    auto words = static_cast<std::uint16_t>((out_.size() - start_) / kWord);
    std::memcpy(out_.data() + start_ + offsetof(sadb_msg, sadb_msg_len), &words, sizeof words);
  }
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;

  void raw(const void* data, std::size_t size) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    out_.insert(out_.end(), p, p + size);
  }
  void pad() { out_.resize(start_ + pad8(out_.size() - start_), 0); }
  // Starts an extension; returns its offset so its length can be fixed.
  std::size_t begin() { return out_.size(); }
  void end(std::size_t at) {
    pad();
    auto words = static_cast<std::uint16_t>((out_.size() - at) / kWord);
    std::memcpy(out_.data() + at, &words, sizeof words);
  }

 private:
  std::vector<std::uint8_t>& out_;
  std::size_t start_;
};

std::uint8_t satype_for(std::uint8_t ipproto) {
  switch (ipproto) {
    case 50: return SADB_SATYPE_ESP;
    case 51: return SADB_SATYPE_AH;
    case 108: return SADB_X_SATYPE_IPCOMP;
    default: return SADB_SATYPE_UNSPEC;
  }
}

std::uint8_t ipproto_for(std::uint8_t satype) {
  switch (satype) {
    case SADB_SATYPE_ESP: return 50;
    case SADB_SATYPE_AH: return 51;
    case SADB_X_SATYPE_IPCOMP: return 108;
    default: return 0;
  }
}

std::uint8_t auth_id(AuthAlg alg) {
  switch (alg) {
    case AuthAlg::HmacMd5: return SADB_AALG_MD5HMAC;
    case AuthAlg::HmacSha1: return SADB_AALG_SHA1HMAC;
    case AuthAlg::HmacSha2_256: return SADB_X_AALG_SHA2_256HMAC;
    case AuthAlg::HmacSha2_384: return SADB_X_AALG_SHA2_384HMAC;
    case AuthAlg::HmacSha2_512: return SADB_X_AALG_SHA2_512HMAC;
    case AuthAlg::HmacRipemd160: return SADB_X_AALG_RIPEMD160HMAC;
    default: return SADB_AALG_NONE;
  }
}

std::optional<AuthAlg> auth_from(std::uint8_t id) {
  switch (id) {
    case SADB_AALG_MD5HMAC: return AuthAlg::HmacMd5;
    case SADB_AALG_SHA1HMAC: return AuthAlg::HmacSha1;
    case SADB_X_AALG_SHA2_256HMAC: return AuthAlg::HmacSha2_256;
    case SADB_X_AALG_SHA2_384HMAC: return AuthAlg::HmacSha2_384;
    case SADB_X_AALG_SHA2_512HMAC: return AuthAlg::HmacSha2_512;
    case SADB_X_AALG_RIPEMD160HMAC: return AuthAlg::HmacRipemd160;
    default: return std::nullopt;
  }
}

// The ICV length af_key gives each HMAC (the kernel's algorithm table).
std::uint32_t af_key_trunc_bits(AuthAlg alg) {
  switch (alg) {
    case AuthAlg::HmacSha2_384: return 192;
    case AuthAlg::HmacSha2_512: return 256;
    default: return 96;
  }
}

std::uint8_t enc_id(EncAlg alg) {
  switch (canonical_enc(alg, 16)) {
    case EncAlg::TripleDesCbc: return SADB_EALG_3DESCBC;
    case EncAlg::Aes: return SADB_X_EALG_AESCBC;
    case EncAlg::AesCtr: return SADB_X_EALG_AESCTR;
    case EncAlg::Blowfish: return SADB_X_EALG_BLOWFISHCBC;
    case EncAlg::Cast128: return SADB_X_EALG_CASTCBC;
    case EncAlg::Null: return SADB_EALG_NULL;
    default: return SADB_EALG_NONE;
  }
}

std::optional<EncAlg> enc_from(std::uint8_t id, std::size_t key_bytes) {
  switch (id) {
    case SADB_EALG_3DESCBC: return EncAlg::TripleDesCbc;
    case SADB_X_EALG_AESCBC: return canonical_enc(EncAlg::Aes, key_bytes);
    case SADB_X_EALG_AESCTR: return canonical_enc(EncAlg::AesCtr, key_bytes);
    case SADB_X_EALG_BLOWFISHCBC: return EncAlg::Blowfish;
    case SADB_X_EALG_CASTCBC: return EncAlg::Cast128;
    case SADB_EALG_NULL: return EncAlg::Null;
    default: return std::nullopt;
  }
}

void put_address(Message& m, std::uint16_t exttype, const IpAddress& a, std::uint8_t proto,
                 std::uint16_t port) {
  std::size_t at = m.begin();
  sadb_address ext{};
  ext.sadb_address_exttype = exttype;
  ext.sadb_address_proto = proto == 0 ? IPSEC_PROTO_ANY : proto;
  ext.sadb_address_prefixlen = a.prefixlen;
  m.raw(&ext, sizeof ext);
  if (a.family == Family::Inet6) {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    std::memcpy(&sin6.sin6_addr, a.bytes.data(), 16);
    m.raw(&sin6, sizeof sin6);
  } else {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    std::memcpy(&sin.sin_addr, a.bytes.data(), 4);
    m.raw(&sin, sizeof sin);
  }
  m.end(at);
}

void put_sockaddr(Message& m, const IpAddress& a, Family family) {
  if (family == Family::Inet6) {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    if (a.family == Family::Inet6) std::memcpy(&sin6.sin6_addr, a.bytes.data(), 16);
    m.raw(&sin6, sizeof sin6);
  } else {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    if (a.family == Family::Inet) std::memcpy(&sin.sin_addr, a.bytes.data(), 4);
    m.raw(&sin, sizeof sin);
  }
}

void put_key(Message& m, std::uint16_t exttype, const std::vector<std::uint8_t>& key) {
  std::size_t at = m.begin();
  sadb_key ext{};
  ext.sadb_key_exttype = exttype;
  ext.sadb_key_bits = static_cast<std::uint16_t>(key.size() * 8);
  m.raw(&ext, sizeof ext);
  m.raw(key.data(), key.size());
  m.end(at);
}

void put_policy(Message& m, const KernelPolicy& p, bool with_templates) {
  std::size_t at = m.begin();
  sadb_x_policy ext{};
  ext.sadb_x_policy_exttype = SADB_X_EXT_POLICY;
  ext.sadb_x_policy_type = p.block                ? IPSEC_POLICY_DISCARD
                           : p.templates.empty()  ? IPSEC_POLICY_NONE
                                                  : IPSEC_POLICY_IPSEC;
  ext.sadb_x_policy_dir = static_cast<std::uint8_t>(static_cast<unsigned>(p.dir) + 1);
  ext.sadb_x_policy_priority = p.priority;
  m.raw(&ext, sizeof ext);
  if (with_templates) {
    for (const PolicyTemplate& t : p.templates) {
      sadb_x_ipsecrequest rq{};
      const bool tunnel = t.mode == TunnelMode::Tunnel;
      Family family = t.dst.family != Family::Unspec   ? t.dst.family
                      : t.src.family != Family::Unspec ? t.src.family
                                                       : p.selector.src.family;
      std::size_t sockaddr_size = family == Family::Inet6 ? sizeof(sockaddr_in6)
                                                          : sizeof(sockaddr_in);
      rq.sadb_x_ipsecrequest_len =
          static_cast<std::uint16_t>(sizeof rq + (tunnel ? 2 * sockaddr_size : 0));
      rq.sadb_x_ipsecrequest_proto = t.ipproto;
      rq.sadb_x_ipsecrequest_mode = tunnel ? IPSEC_MODE_TUNNEL : IPSEC_MODE_TRANSPORT;
      rq.sadb_x_ipsecrequest_level = t.optional ? IPSEC_LEVEL_USE : IPSEC_LEVEL_REQUIRE;
      rq.sadb_x_ipsecrequest_reqid = t.reqid;
      m.raw(&rq, sizeof rq);
      if (tunnel) {
        put_sockaddr(m, t.src, family);
        put_sockaddr(m, t.dst, family);
      }
    }
  }
  m.end(at);
}

// Walks the extensions of a whole message.
template <typename F>
bool for_each_extension(const std::uint8_t* data, std::size_t size, F&& each) {
  std::size_t offset = sizeof(sadb_msg);
  while (offset + sizeof(sadb_ext) <= size) {
    sadb_ext ext;
    std::memcpy(&ext, data + offset, sizeof ext);
    std::size_t len = static_cast<std::size_t>(ext.sadb_ext_len) * kWord;
    if (len < sizeof ext || offset + len > size) return false;
    each(ext.sadb_ext_type, data + offset, len);
    offset += len;
  }
  return offset == size;
}

template <typename T>
bool read(const std::uint8_t* p, std::size_t len, T& value) {
  if (len < sizeof value) return false;
  std::memcpy(&value, p, sizeof value);
  return true;
}

// A sockaddr_in/in6 at p; its port through *port.
std::optional<IpAddress> read_sockaddr(const std::uint8_t* p, std::size_t len,
                                       std::uint16_t* port = nullptr) {
  sa_family_t family;
  if (!read(p, len, family)) return std::nullopt;
  IpAddress a;
  if (family == AF_INET) {
    sockaddr_in sin;
    if (!read(p, len, sin)) return std::nullopt;
    a.family = Family::Inet;
    std::memcpy(a.bytes.data(), &sin.sin_addr, 4);
    a.prefixlen = 32;
    if (port) *port = ntohs(sin.sin_port);
  } else if (family == AF_INET6) {
    sockaddr_in6 sin6;
    if (!read(p, len, sin6)) return std::nullopt;
    a.family = Family::Inet6;
    std::memcpy(a.bytes.data(), &sin6.sin6_addr, 16);
    a.prefixlen = 128;
    if (port) *port = ntohs(sin6.sin6_port);
  } else {
    return std::nullopt;
  }
  return a;
}

struct AddressExt {
  IpAddress address;
  std::uint8_t proto = 0;
  std::uint16_t port = 0;
};

std::optional<AddressExt> read_address(const std::uint8_t* p, std::size_t len) {
  sadb_address ext;
  if (!read(p, len, ext)) return std::nullopt;
  AddressExt out;
  auto a = read_sockaddr(p + sizeof ext, len - sizeof ext, &out.port);
  if (!a) return std::nullopt;
  out.address = *a;
  out.address.prefixlen = ext.sadb_address_prefixlen;
  out.proto = ext.sadb_address_proto == IPSEC_PROTO_ANY ? 0 : ext.sadb_address_proto;
  return out;
}

bool is_zero(const IpAddress& a) {
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a.bytes[i] != 0) return false;
  return true;
}

void read_policy_ext(KernelPolicy& p, const std::uint8_t* data, std::size_t len) {
  sadb_x_policy ext;
  if (!read(data, len, ext)) return;
  p.dir = static_cast<PolicyDir>(ext.sadb_x_policy_dir > 0 ? ext.sadb_x_policy_dir - 1 : 0);
  p.block = ext.sadb_x_policy_type == IPSEC_POLICY_DISCARD;
  p.priority = ext.sadb_x_policy_priority;
  p.index = ext.sadb_x_policy_id;
  if (ext.sadb_x_policy_type != IPSEC_POLICY_IPSEC) return;
  std::size_t offset = sizeof ext;
  while (offset + sizeof(sadb_x_ipsecrequest) <= len) {
    sadb_x_ipsecrequest rq;
    std::memcpy(&rq, data + offset, sizeof rq);
    if (rq.sadb_x_ipsecrequest_len < sizeof rq || offset + rq.sadb_x_ipsecrequest_len > len) break;
    PolicyTemplate t;
    t.ipproto = static_cast<std::uint8_t>(rq.sadb_x_ipsecrequest_proto);
    t.mode = rq.sadb_x_ipsecrequest_mode == IPSEC_MODE_TRANSPORT ? TunnelMode::Transport
                                                                 : TunnelMode::Tunnel;
    t.optional = rq.sadb_x_ipsecrequest_level == IPSEC_LEVEL_USE;
    t.reqid = rq.sadb_x_ipsecrequest_reqid;
    std::size_t rest = rq.sadb_x_ipsecrequest_len - sizeof rq;
    const std::uint8_t* addrs = data + offset + sizeof rq;
    if (rest > 0) {
      auto src = read_sockaddr(addrs, rest);
      if (src) {
        std::size_t first = src->family == Family::Inet6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
        auto dst = read_sockaddr(addrs + first, rest - std::min(rest, first));
        if (!is_zero(*src)) t.src = *src;
        if (dst && !is_zero(*dst)) t.dst = *dst;
      }
    }
    p.templates.push_back(t);
    offset += rq.sadb_x_ipsecrequest_len;
  }
}

}  // namespace

std::optional<std::string> check_state(const KernelState& s) {
  if (s.enc && is_aead(*s.enc))
    return std::string("PF_KEY (Linux af_key) knows no AEAD ciphers such as ") +
           std::string(compiler::enc_transform(*s.enc).name) + "; use --kernel xfrm";
  if (s.auth && *s.auth == AuthAlg::HmacSha2_256)
    return std::string("PF_KEY (Linux af_key) truncates hmac-sha2-256 to 96 bits where ipsec.conf "
                       "means 128 (RFC 4868); refusing to install a weaker SA: use --kernel xfrm");
  if (s.ipproto == 4) return std::string("PF_KEY has no SA type for ipip");
  if (s.enc && enc_id(*s.enc) == SADB_EALG_NONE)
    return "PF_KEY has no cipher " + std::string(compiler::enc_transform(*s.enc).name);
  return std::nullopt;
}

void normalize(KernelState& s) {
  s.any_inner_family = false;
  if (s.auth) s.auth_trunc_bits = af_key_trunc_bits(*s.auth);
}

void normalize(KernelPolicy& p) {
  for (PolicyTemplate& t : p.templates)
    if (t.mode == TunnelMode::Transport) t.src = t.dst = IpAddress{};
}

void encode_bare(std::vector<std::uint8_t>& out, std::uint8_t type, std::uint8_t satype,
                 std::uint32_t seq, std::uint32_t pid) {
  Message m(out, type, satype, seq, pid);
}

void encode_state_change(std::vector<std::uint8_t>& out, ChangeKind kind, const KernelState& s,
                         std::uint32_t seq, std::uint32_t pid) {
  const bool add = kind == ChangeKind::AddState;
  Message m(out, add ? SADB_ADD : SADB_DELETE, satype_for(s.ipproto), seq, pid);
  std::size_t at = m.begin();
  sadb_sa sa{};
  sa.sadb_sa_exttype = SADB_EXT_SA;
  sa.sadb_sa_spi = htonl(s.spi);
  if (add) {
    sa.sadb_sa_replay = static_cast<std::uint8_t>(s.replay_window);
    sa.sadb_sa_state = SADB_SASTATE_MATURE;
    if (s.auth) sa.sadb_sa_auth = auth_id(*s.auth);
    if (s.comp)
      sa.sadb_sa_encrypt = SADB_X_CALG_DEFLATE;
    else if (s.enc)
      sa.sadb_sa_encrypt = enc_id(*s.enc);
  }
  m.raw(&sa, sizeof sa);
  m.end(at);
  put_address(m, SADB_EXT_ADDRESS_SRC, s.src, 0, 0);
  put_address(m, SADB_EXT_ADDRESS_DST, s.dst, 0, 0);
  if (!add) return;
  if (s.auth && !s.auth_key.empty()) put_key(m, SADB_EXT_KEY_AUTH, s.auth_key);
  if (s.enc && !s.enc_key.empty()) put_key(m, SADB_EXT_KEY_ENCRYPT, s.enc_key);
  at = m.begin();
  sadb_x_sa2 sa2{};
  sa2.sadb_x_sa2_exttype = SADB_X_EXT_SA2;
  sa2.sadb_x_sa2_mode = s.mode == TunnelMode::Transport ? IPSEC_MODE_TRANSPORT : IPSEC_MODE_TUNNEL;
  sa2.sadb_x_sa2_reqid = s.reqid;
  m.raw(&sa2, sizeof sa2);
  m.end(at);
  if (s.encap_dport != 0) {
    at = m.begin();
    sadb_x_nat_t_type type{};
    type.sadb_x_nat_t_type_exttype = SADB_X_EXT_NAT_T_TYPE;
    type.sadb_x_nat_t_type_type = 2;  // UDP_ENCAP_ESPINUDP
    m.raw(&type, sizeof type);
    m.end(at);
    for (auto [exttype, port] : {std::pair{SADB_X_EXT_NAT_T_SPORT, s.encap_sport},
                                 std::pair{SADB_X_EXT_NAT_T_DPORT, s.encap_dport}}) {
      at = m.begin();
      sadb_x_nat_t_port p{};
      p.sadb_x_nat_t_port_exttype = static_cast<std::uint16_t>(exttype);
      p.sadb_x_nat_t_port_port = htons(port);
      m.raw(&p, sizeof p);
      m.end(at);
    }
  }
}

void encode_policy_change(std::vector<std::uint8_t>& out, ChangeKind kind,
                          const KernelPolicy& p, std::uint32_t seq, std::uint32_t pid) {
  const bool remove = kind == ChangeKind::DeletePolicy;
  // SPDUPDATE replaces a policy with the same selector, as UPDPOLICY does.
  std::uint8_t type = remove ? SADB_X_SPDDELETE
                      : kind == ChangeKind::UpdatePolicy ? SADB_X_SPDUPDATE
                                                         : SADB_X_SPDADD;
  Message m(out, type, SADB_SATYPE_UNSPEC, seq, pid);
  put_address(m, SADB_EXT_ADDRESS_SRC, p.selector.src, p.selector.proto, p.selector.sport);
  put_address(m, SADB_EXT_ADDRESS_DST, p.selector.dst, p.selector.proto, p.selector.dport);
  put_policy(m, p, !remove);
}

std::optional<Header> decode_header(const std::uint8_t* data, std::size_t size) {
  sadb_msg h;
  if (!read(data, size, h) || h.sadb_msg_version != PF_KEY_V2 ||
      static_cast<std::size_t>(h.sadb_msg_len) * kWord != size)
    return std::nullopt;
  return Header{h.sadb_msg_type, h.sadb_msg_errno, h.sadb_msg_satype, h.sadb_msg_seq,
                h.sadb_msg_pid};
}

std::optional<KernelState> decode_state(const std::uint8_t* data, std::size_t size) {
  auto header = decode_header(data, size);
  if (!header) return std::nullopt;
  KernelState s;
  s.ipproto = ipproto_for(header->satype);
  if (s.ipproto == 0) return std::nullopt;
  s.mode = TunnelMode::Transport;
  std::uint8_t auth = 0, encrypt = 0;
  bool ok = for_each_extension(data, size, [&](std::uint16_t type, const std::uint8_t* p,
                                               std::size_t len) {
    switch (type) {
      case SADB_EXT_SA: {
        sadb_sa sa;
        if (!read(p, len, sa)) break;
        s.spi = ntohl(sa.sadb_sa_spi);
        s.replay_window = sa.sadb_sa_replay;
        auth = sa.sadb_sa_auth;
        encrypt = sa.sadb_sa_encrypt;
        break;
      }
      case SADB_EXT_LIFETIME_CURRENT: {
        sadb_lifetime lt;
        if (!read(p, len, lt)) break;
        s.counters.bytes = lt.sadb_lifetime_bytes;
        s.counters.add_time = lt.sadb_lifetime_addtime;
        s.counters.use_time = lt.sadb_lifetime_usetime;
        break;
      }
      case SADB_EXT_ADDRESS_SRC:
      case SADB_EXT_ADDRESS_DST: {
        auto a = read_address(p, len);
        if (!a) break;
        (type == SADB_EXT_ADDRESS_SRC ? s.src : s.dst) = a->address;
        break;
      }
      case SADB_EXT_KEY_AUTH:
      case SADB_EXT_KEY_ENCRYPT: {
        sadb_key key;
        if (!read(p, len, key)) break;
        std::size_t bytes = (key.sadb_key_bits + 7u) / 8u;
        if (sizeof key + bytes > len) break;
        (type == SADB_EXT_KEY_AUTH ? s.auth_key : s.enc_key)
            .assign(p + sizeof key, p + sizeof key + bytes);
        break;
      }
      case SADB_X_EXT_SA2: {
        sadb_x_sa2 sa2;
        if (!read(p, len, sa2)) break;
        s.mode = sa2.sadb_x_sa2_mode == IPSEC_MODE_TUNNEL ? TunnelMode::Tunnel
                                                          : TunnelMode::Transport;
        s.reqid = sa2.sadb_x_sa2_reqid;
        break;
      }
      case SADB_X_EXT_NAT_T_SPORT:
      case SADB_X_EXT_NAT_T_DPORT: {
        sadb_x_nat_t_port port;
        if (!read(p, len, port)) break;
        (type == SADB_X_EXT_NAT_T_SPORT ? s.encap_sport : s.encap_dport) =
            ntohs(port.sadb_x_nat_t_port_port);
        break;
      }
      default: break;
    }
  });
  if (!ok) return std::nullopt;
  if (s.ipproto == 108) {
    s.comp = encrypt == SADB_X_CALG_DEFLATE;
  } else {
    if (auth != SADB_AALG_NONE) {
      s.auth = auth_from(auth).value_or(AuthAlg::Unknown);
      if (*s.auth == AuthAlg::Unknown) s.unknown_auth = "PF_KEY auth " + std::to_string(auth);
      else s.auth_trunc_bits = af_key_trunc_bits(*s.auth);
    }
    if (encrypt != SADB_EALG_NONE) {
      s.enc = enc_from(encrypt, s.enc_key.size()).value_or(EncAlg::Unknown);
      if (*s.enc == EncAlg::Unknown) s.unknown_enc = "PF_KEY enc " + std::to_string(encrypt);
    }
  }
  return s;
}

std::optional<KernelPolicy> decode_policy(const std::uint8_t* data, std::size_t size) {
  if (!decode_header(data, size)) return std::nullopt;
  KernelPolicy p;
  bool have_policy = false;
  bool ok = for_each_extension(data, size, [&](std::uint16_t type, const std::uint8_t* ext,
                                               std::size_t len) {
    if (type == SADB_EXT_ADDRESS_SRC || type == SADB_EXT_ADDRESS_DST) {
      auto a = read_address(ext, len);
      if (!a) return;
      if (type == SADB_EXT_ADDRESS_SRC) {
        p.selector.src = a->address;
        p.selector.sport = a->port;
      } else {
        p.selector.dst = a->address;
        p.selector.dport = a->port;
      }
      p.selector.proto = a->proto;
    } else if (type == SADB_X_EXT_POLICY) {
      read_policy_ext(p, ext, len);
      have_policy = true;
    } else if (type == SADB_X_EXT_SEC_CTX) {
      p.has_security_context = true;
    }
  });
  if (!ok || !have_policy || p.selector.src.family == Family::Unspec ||
      static_cast<unsigned>(p.dir) > 2)
    return std::nullopt;
  return p;
}

const char* message_name(std::uint8_t type) {
  static const char* const kNames[] = {
      "reserved", "sadb_getspi", "sadb_update", "sadb_add", "sadb_delete", "sadb_get",
      "sadb_acquire", "sadb_register", "sadb_expire", "sadb_flush", "sadb_dump",
      "sadb_x_promisc", "sadb_x_pchange", "sadb_x_spdupdate", "sadb_x_spdadd",
      "sadb_x_spddelete", "sadb_x_spdget", "sadb_x_spdacquire", "sadb_x_spddump",
      "sadb_x_spdflush", "sadb_x_spdsetidx", "sadb_x_spdexpire", "sadb_x_spddelete2",
      "sadb_x_nat_t_new_mapping", "sadb_x_migrate"};
  return type < sizeof kNames / sizeof kNames[0] ? kNames[type] : "unknown";
}

MonitorEvent decode_event(const std::uint8_t* data, std::size_t size) {
  MonitorEvent e;
  e.raw.assign(data, data + size);
  auto header = decode_header(data, size);
  if (!header) {
    e.name = "unknown";
    return e;
  }
  e.name = message_name(header->type);
  if (header->error != 0)
    e.detail = "errno " + std::to_string(header->error) + ": " + std::strerror(header->error);
  switch (header->type) {
    case SADB_ADD: case SADB_UPDATE: case SADB_DELETE: case SADB_EXPIRE: case SADB_GET:
      if (header->error == 0) e.state = decode_state(data, size);
      break;
    case SADB_X_SPDADD: case SADB_X_SPDUPDATE: case SADB_X_SPDDELETE: case SADB_X_SPDDELETE2:
    case SADB_X_SPDEXPIRE:
      if (header->error == 0) e.policy = decode_policy(data, size);
      break;
    case SADB_ACQUIRE: {
      std::string src = "?", dst = "?";
      std::uint32_t policy_id = 0;
      for_each_extension(data, size, [&](std::uint16_t type, const std::uint8_t* p,
                                         std::size_t len) {
        if (type == SADB_EXT_ADDRESS_SRC || type == SADB_EXT_ADDRESS_DST) {
          if (auto a = read_address(p, len))
            (type == SADB_EXT_ADDRESS_SRC ? src : dst) = compiler::format_address(a->address);
        } else if (type == SADB_X_EXT_POLICY) {
          sadb_x_policy pol;
          if (read(p, len, pol)) policy_id = pol.sadb_x_policy_id;
        }
      });
      const char* sat = header->satype == SADB_SATYPE_ESP  ? "esp"
                        : header->satype == SADB_SATYPE_AH ? "ah"
                                                           : "ipcomp";
      e.detail = std::string(sat) + " from " + src + " to " + dst + " policy " +
                 std::to_string(policy_id) + " seq " + std::to_string(header->seq);
      break;
    }
    default:
      break;
  }
  return e;
}

}  // namespace ipsecctl::backends::pfkey
