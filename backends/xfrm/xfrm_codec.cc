#include "backends/xfrm/xfrm_codec.h"

#include <arpa/inet.h>
#include <linux/xfrm.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>

#include "backends/kernel/lower_plan.h"
#include "backends/xfrm/netlink_layout.h"

namespace ipsecctl::backends::xfrm {

using compiler::AuthAlg;
using compiler::EncAlg;

namespace {

struct AuthName {
  AuthAlg alg;
  const char* name;
};
constexpr AuthName kAuthNames[] = {
    {AuthAlg::HmacMd5, "hmac(md5)"},       {AuthAlg::HmacSha1, "hmac(sha1)"},
    {AuthAlg::HmacRipemd160, "hmac(rmd160)"}, {AuthAlg::HmacSha2_256, "hmac(sha256)"},
    {AuthAlg::HmacSha2_384, "hmac(sha384)"}, {AuthAlg::HmacSha2_512, "hmac(sha512)"},
};

struct EncName {
  EncAlg alg;
  const char* name;
};
// One entry per family; canonical_enc() picks the member by key length.
constexpr EncName kEncNames[] = {
    {EncAlg::TripleDesCbc, "cbc(des3_ede)"},
    {EncAlg::Aes, "cbc(aes)"},
    {EncAlg::AesCtr, "rfc3686(ctr(aes))"},
    {EncAlg::Aes128Gcm, "rfc4106(gcm(aes))"},
    {EncAlg::Aes128Gmac, "rfc4543(gcm(aes))"},
    {EncAlg::Blowfish, "cbc(blowfish)"},
    {EncAlg::Cast128, "cbc(cast5)"},
    {EncAlg::Chacha20Poly1305, "rfc7539esp(chacha20,poly1305)"},
    {EncAlg::Null, "ecb(cipher_null)"},
};

EncAlg enc_family(EncAlg alg) { return canonical_enc(alg, 16); }

// Appends one netlink message; the length is fixed up on destruction.
class MessageWriter {
 public:
  MessageWriter(std::vector<std::uint8_t>& out, std::uint16_t type, std::uint16_t flags,
                std::uint32_t seq)
      : out_(out), start_(out.size()) {
    nlmsghdr header{};
    header.nlmsg_type = type;
    header.nlmsg_flags = flags;
    header.nlmsg_seq = seq;
    put(header);
  }
  ~MessageWriter() {
    auto len = static_cast<std::uint32_t>(out_.size() - start_);
    std::memcpy(out_.data() + start_, &len, sizeof len);
  }
  MessageWriter(const MessageWriter&) = delete;
  MessageWriter& operator=(const MessageWriter&) = delete;

  void raw(const void* data, std::size_t size) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    out_.insert(out_.end(), p, p + size);
    out_.resize(out_.size() + (align4(size) - size), 0);
  }
  template <typename T>
  void put(const T& value) { raw(&value, sizeof value); }

  // The header of an attribute whose `size` bytes of value (a multiple
  // of 4) the caller then put()s.
  void attribute_header(std::uint16_t type, std::size_t size) {
    nlattr attr{};
    attr.nla_type = type;
    attr.nla_len = static_cast<std::uint16_t>(kAttributeHeader + size);
    put(attr);
  }

  // An attribute whose value is `head` followed by `tail` bytes.
  void attribute(std::uint16_t type, const void* head, std::size_t head_size,
                 const void* tail = nullptr, std::size_t tail_size = 0) {
    nlattr attr{};
    attr.nla_type = type;
    attr.nla_len = static_cast<std::uint16_t>(kAttributeHeader + head_size + tail_size);
    out_.insert(out_.end(), reinterpret_cast<const std::uint8_t*>(&attr),
                reinterpret_cast<const std::uint8_t*>(&attr) + sizeof attr);
    const auto* h = static_cast<const std::uint8_t*>(head);
    out_.insert(out_.end(), h, h + head_size);
    if (tail_size != 0) {
      const auto* t = static_cast<const std::uint8_t*>(tail);
      out_.insert(out_.end(), t, t + tail_size);
    }
    std::size_t used = kAttributeHeader + head_size + tail_size;
    out_.resize(out_.size() + (align4(used) - used), 0);
  }

 private:
  std::vector<std::uint8_t>& out_;
  std::size_t start_;
};

std::uint16_t af_of(Family family) {
  return family == Family::Inet ? AF_INET : family == Family::Inet6 ? AF_INET6 : AF_UNSPEC;
}

Family family_of(unsigned af) {
  return af == AF_INET ? Family::Inet : af == AF_INET6 ? Family::Inet6 : Family::Unspec;
}

xfrm_address_t to_xfrm(const IpAddress& a) {
  xfrm_address_t x{};
  std::memcpy(&x, a.bytes.data(), a.family == Family::Inet ? 4 : a.family == Family::Inet6 ? 16 : 0);
  return x;
}

IpAddress from_xfrm(const xfrm_address_t& x, Family family, unsigned prefixlen) {
  IpAddress a;
  a.family = family;
  if (family == Family::Unspec) return a;
  std::memcpy(a.bytes.data(), &x, family == Family::Inet ? 4 : 16);
  a.prefixlen = static_cast<std::uint8_t>(prefixlen);
  return a;
}

bool is_zero(const xfrm_address_t& x) {
  static const xfrm_address_t zero{};
  return std::memcmp(&x, &zero, sizeof x) == 0;
}

xfrm_lifetime_cfg infinite_lifetime() {
  xfrm_lifetime_cfg lft{};
  lft.soft_byte_limit = XFRM_INF;
  lft.hard_byte_limit = XFRM_INF;
  lft.soft_packet_limit = XFRM_INF;
  lft.hard_packet_limit = XFRM_INF;
  return lft;
}

xfrm_selector to_xfrm(const Selector& s) {
  xfrm_selector sel{};
  sel.family = af_of(s.src.family);
  sel.saddr = to_xfrm(s.src);
  sel.daddr = to_xfrm(s.dst);
  sel.prefixlen_s = s.src.prefixlen;
  sel.prefixlen_d = s.dst.prefixlen;
  sel.proto = s.proto;
  if (s.sport != 0) {
    sel.sport = htons(s.sport);
    sel.sport_mask = 0xffff;
  }
  if (s.dport != 0) {
    sel.dport = htons(s.dport);
    sel.dport_mask = 0xffff;
  }
  return sel;
}

Selector from_xfrm(const xfrm_selector& sel) {
  Selector s;
  Family family = family_of(sel.family);
  s.src = from_xfrm(sel.saddr, family, sel.prefixlen_s);
  s.dst = from_xfrm(sel.daddr, family, sel.prefixlen_d);
  s.proto = sel.proto;
  s.sport = sel.sport_mask != 0 ? ntohs(sel.sport) : 0;
  s.dport = sel.dport_mask != 0 ? ntohs(sel.dport) : 0;
  return s;
}

// Walks the attributes that follow a fixed header of `header_size` bytes.
template <typename F>
void for_each_attribute(const nlmsghdr& message, std::size_t header_size, F&& each) {
  const auto* base = reinterpret_cast<const std::uint8_t*>(&message);
  std::size_t offset = kMessageHeader + align4(header_size);
  while (offset + kAttributeHeader <= message.nlmsg_len) {
    nlattr attr;
    std::memcpy(&attr, base + offset, sizeof attr);
    if (attr.nla_len < kAttributeHeader || offset + attr.nla_len > message.nlmsg_len) break;
    each(static_cast<std::uint16_t>(attr.nla_type & NLA_TYPE_MASK), base + offset + kAttributeHeader,
         static_cast<std::size_t>(attr.nla_len - kAttributeHeader));
    offset += align4(attr.nla_len);
  }
}

template <typename T>
bool read_payload(const nlmsghdr& message, T& value, std::size_t offset = 0) {
  if (message.nlmsg_len < kMessageHeader + offset + sizeof value) return false;
  std::memcpy(&value, reinterpret_cast<const std::uint8_t*>(&message) + kMessageHeader + offset,
              sizeof value);
  return true;
}

template <typename T>
bool read_value(const std::uint8_t* data, std::size_t size, T& value) {
  if (size < sizeof value) return false;
  std::memcpy(&value, data, sizeof value);
  return true;
}

std::optional<KernelPolicy> policy_from(const xfrm_userpolicy_info& info) {
  if (info.dir > XFRM_POLICY_FWD) return std::nullopt;  // per-socket policies
  KernelPolicy p;
  p.selector = from_xfrm(info.sel);
  if (p.selector.src.family == Family::Unspec) return std::nullopt;
  p.dir = static_cast<PolicyDir>(info.dir);
  p.block = info.action == XFRM_POLICY_BLOCK;
  p.priority = info.priority;
  p.index = info.index;
  return p;
}

void read_templates(KernelPolicy& p, const std::uint8_t* data, std::size_t size) {
  for (std::size_t off = 0; off + sizeof(xfrm_user_tmpl) <= size; off += sizeof(xfrm_user_tmpl)) {
    xfrm_user_tmpl t;
    std::memcpy(&t, data + off, sizeof t);
    PolicyTemplate pt;
    pt.ipproto = t.id.proto;
    pt.mode = t.mode == XFRM_MODE_TRANSPORT ? TunnelMode::Transport : TunnelMode::Tunnel;
    pt.optional = t.optional != 0;
    Family family = family_of(t.family);
    if (!is_zero(t.saddr)) pt.src = from_xfrm(t.saddr, family, family == Family::Inet ? 32 : 128);
    if (!is_zero(t.id.daddr))
      pt.dst = from_xfrm(t.id.daddr, family, family == Family::Inet ? 32 : 128);
    pt.reqid = t.reqid;
    pt.spi = ntohl(t.id.spi);
    p.templates.push_back(pt);
  }
}

void read_policy_attributes(KernelPolicy& p, const nlmsghdr& message, std::size_t header) {
  for_each_attribute(message, header, [&](std::uint16_t type, const std::uint8_t* data,
                                          std::size_t size) {
    switch (type) {
      case XFRMA_TMPL: read_templates(p, data, size); break;
      case XFRMA_MARK: {
        xfrm_mark mark;
        if (read_value(data, size, mark)) {
          p.mark = mark.v;
          p.mark_mask = mark.m;
        }
        break;
      }
      case XFRMA_IF_ID: read_value(data, size, p.if_id); break;
      case XFRMA_SEC_CTX: p.has_security_context = true; break;
      default: break;
    }
  });
}

std::optional<KernelState> state_from(const xfrm_usersa_info& info) {
  KernelState s;
  Family family = family_of(info.family);
  if (family == Family::Unspec) return std::nullopt;
  const unsigned full = family == Family::Inet ? 32 : 128;
  s.src = from_xfrm(info.saddr, family, full);
  s.dst = from_xfrm(info.id.daddr, family, full);
  s.ipproto = info.id.proto;
  s.spi = ntohl(info.id.spi);
  s.mode = info.mode == XFRM_MODE_TRANSPORT ? TunnelMode::Transport : TunnelMode::Tunnel;
  s.reqid = info.reqid;
  s.replay_window = info.replay_window;
  s.any_inner_family = (info.flags & XFRM_STATE_AF_UNSPEC) != 0;
  s.counters.bytes = info.curlft.bytes;
  s.counters.packets = info.curlft.packets;
  s.counters.add_time = info.curlft.add_time;
  s.counters.use_time = info.curlft.use_time;
  s.counters.replay_window = info.stats.replay_window;
  s.counters.replay_failures = info.stats.replay;
  s.counters.integrity_failures = info.stats.integrity_failed;
  return s;
}

std::string algorithm_name(const char (&name)[64]) {
  return std::string(name, strnlen(name, sizeof name));
}

// An algorithm attribute: the fixed head, then alg_key_len bits of key.
template <typename Head>
bool read_algorithm(const std::uint8_t* data, std::size_t size, Head& head,
                    std::vector<std::uint8_t>& key) {
  if (!read_value(data, size, head)) return false;
  std::size_t bytes = (head.alg_key_len + 7) / 8;
  if (sizeof head + bytes > size) return false;
  key.assign(data + sizeof head, data + sizeof head + bytes);
  return true;
}

void set_cipher(KernelState& s, const char (&name)[64]) {
  s.enc = enc_from_kernel(algorithm_name(name), s.enc_key.size());
  if (!s.enc) {
    s.enc = EncAlg::Unknown;
    s.unknown_enc = algorithm_name(name);
  }
}

void read_state_attributes(KernelState& s, const nlmsghdr& message, std::size_t header) {
  for_each_attribute(message, header, [&](std::uint16_t type, const std::uint8_t* data,
                                          std::size_t size) {
    switch (type) {
      case XFRMA_ALG_AUTH_TRUNC: {
        xfrm_algo_auth a;
        if (!read_algorithm(data, size, a, s.auth_key)) break;
        s.auth = auth_from_kernel(algorithm_name(a.alg_name));
        if (!s.auth) {
          s.auth = AuthAlg::Unknown;
          s.unknown_auth = algorithm_name(a.alg_name);
        }
        s.auth_trunc_bits = a.alg_trunc_len;
        break;
      }
      case XFRMA_ALG_CRYPT: {
        xfrm_algo a;
        if (read_algorithm(data, size, a, s.enc_key)) set_cipher(s, a.alg_name);
        break;
      }
      case XFRMA_ALG_AEAD: {
        xfrm_algo_aead a;
        if (!read_algorithm(data, size, a, s.enc_key)) break;
        set_cipher(s, a.alg_name);
        s.icv_bits = a.alg_icv_len;
        break;
      }
      case XFRMA_ALG_COMP: s.comp = true; break;
      case XFRMA_ENCAP: {
        xfrm_encap_tmpl e;
        if (read_value(data, size, e)) {
          s.encap_sport = ntohs(e.encap_sport);
          s.encap_dport = ntohs(e.encap_dport);
        }
        break;
      }
      case XFRMA_MARK: {
        xfrm_mark mark;
        if (read_value(data, size, mark)) s.mark = mark.v;
        break;
      }
      case XFRMA_IF_ID: read_value(data, size, s.if_id); break;
      default: break;
    }
  });
}

}  // namespace

const char* kernel_auth_name(AuthAlg alg) {
  for (const auto& a : kAuthNames)
    if (a.alg == alg) return a.name;
  return nullptr;
}

const char* kernel_enc_name(EncAlg alg) {
  EncAlg family = enc_family(alg);
  for (const auto& e : kEncNames)
    if (e.alg == family) return e.name;
  return nullptr;
}

std::optional<AuthAlg> auth_from_kernel(std::string_view name) {
  for (const auto& a : kAuthNames)
    if (name == a.name) return a.alg;
  // Older names the kernel also accepts.
  if (name == "md5") return AuthAlg::HmacMd5;
  if (name == "sha1") return AuthAlg::HmacSha1;
  if (name == "sha256") return AuthAlg::HmacSha2_256;
  if (name == "sha384") return AuthAlg::HmacSha2_384;
  if (name == "sha512") return AuthAlg::HmacSha2_512;
  if (name == "rmd160") return AuthAlg::HmacRipemd160;
  return std::nullopt;
}

std::optional<EncAlg> enc_from_kernel(std::string_view name, std::size_t key_bytes) {
  for (const auto& e : kEncNames)
    if (name == e.name) return canonical_enc(e.alg, key_bytes);
  if (name == "aes") return canonical_enc(EncAlg::Aes, key_bytes);
  if (name == "des3_ede") return EncAlg::TripleDesCbc;
  return std::nullopt;
}

void encode_request(std::vector<std::uint8_t>& out, std::uint16_t type, std::uint16_t flags,
                    std::uint32_t seq, const void* payload, std::size_t size) {
  MessageWriter m(out, type, static_cast<std::uint16_t>(NLM_F_REQUEST | flags), seq);
  if (size != 0) m.raw(payload, size);
}

namespace {

// A message that names a policy by its identity (delete, get).
void encode_policy_id(std::vector<std::uint8_t>& out, std::uint16_t type, const KernelPolicy& p,
                      std::uint32_t seq) {
  MessageWriter m(out, type, NLM_F_REQUEST, seq);
  xfrm_userpolicy_id id{};
  id.sel = to_xfrm(p.selector);
  id.dir = static_cast<std::uint8_t>(p.dir);
  m.put(id);
  if (p.mark != 0 || p.mark_mask != 0) {
    xfrm_mark mark{p.mark, p.mark_mask};
    m.attribute(XFRMA_MARK, &mark, sizeof mark);
  }
  if (p.if_id != 0) m.attribute(XFRMA_IF_ID, &p.if_id, sizeof p.if_id);
}

}  // namespace

void encode_policy_get(std::vector<std::uint8_t>& out, const KernelPolicy& p, std::uint32_t seq) {
  encode_policy_id(out, XFRM_MSG_GETPOLICY, p, seq);
}

void encode_policy_change(std::vector<std::uint8_t>& out, ChangeKind kind,
                          const KernelPolicy& p, std::uint32_t seq) {
  if (kind == ChangeKind::DeletePolicy) {
    encode_policy_id(out, XFRM_MSG_DELPOLICY, p, seq);
    return;
  }
  const bool add = kind == ChangeKind::AddPolicy;
  MessageWriter m(out, add ? XFRM_MSG_NEWPOLICY : XFRM_MSG_UPDPOLICY,
                  static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_CREATE |
                                             (add ? NLM_F_EXCL : 0)),
                  seq);
  xfrm_userpolicy_info info{};
  info.sel = to_xfrm(p.selector);
  info.lft = infinite_lifetime();
  info.priority = p.priority;
  info.dir = static_cast<std::uint8_t>(p.dir);
  info.action = p.block ? XFRM_POLICY_BLOCK : XFRM_POLICY_ALLOW;
  m.put(info);
  if (!p.templates.empty()) {
    m.attribute_header(XFRMA_TMPL, p.templates.size() * sizeof(xfrm_user_tmpl));
    for (const PolicyTemplate& t : p.templates) {
      xfrm_user_tmpl x{};
      x.id.daddr = to_xfrm(t.dst);
      x.id.spi = htonl(t.spi);
      x.id.proto = t.ipproto;
      Family family = t.dst.family != Family::Unspec   ? t.dst.family
                      : t.src.family != Family::Unspec ? t.src.family
                                                       : p.selector.src.family;
      x.family = af_of(family);
      x.saddr = to_xfrm(t.src);
      x.reqid = t.reqid;
      x.mode = t.mode == TunnelMode::Transport ? XFRM_MODE_TRANSPORT : XFRM_MODE_TUNNEL;
      x.optional = t.optional ? 1 : 0;
      x.aalgos = x.ealgos = x.calgos = ~0U;
      static_assert(sizeof x % 4 == 0, "templates follow each other unpadded");
      m.put(x);
    }
  }
  if (p.mark != 0 || p.mark_mask != 0) {
    xfrm_mark mark{p.mark, p.mark_mask};
    m.attribute(XFRMA_MARK, &mark, sizeof mark);
  }
  if (p.if_id != 0) m.attribute(XFRMA_IF_ID, &p.if_id, sizeof p.if_id);
}

void encode_state_change(std::vector<std::uint8_t>& out, ChangeKind kind, const KernelState& s,
                         std::uint32_t seq) {
  if (kind == ChangeKind::DeleteState) {
    MessageWriter m(out, XFRM_MSG_DELSA, NLM_F_REQUEST, seq);
    xfrm_usersa_id id{};
    id.daddr = to_xfrm(s.dst);
    id.spi = htonl(s.spi);
    id.family = af_of(s.dst.family);
    id.proto = s.ipproto;
    m.put(id);
    if (s.mark != 0) {
      xfrm_mark mark{s.mark, ~0U};
      m.attribute(XFRMA_MARK, &mark, sizeof mark);
    }
    return;
  }
  MessageWriter m(out, XFRM_MSG_NEWSA,
                  static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL), seq);
  xfrm_usersa_info info{};
  info.id.daddr = to_xfrm(s.dst);
  info.id.spi = htonl(s.spi);
  info.id.proto = s.ipproto;
  info.saddr = to_xfrm(s.src);
  info.lft = infinite_lifetime();
  info.family = af_of(s.dst.family);
  info.mode = s.mode == TunnelMode::Transport ? XFRM_MODE_TRANSPORT : XFRM_MODE_TUNNEL;
  info.replay_window = static_cast<std::uint8_t>(s.replay_window);
  info.reqid = s.reqid;
  if (s.any_inner_family) info.flags |= XFRM_STATE_AF_UNSPEC;
  m.put(info);
  if (s.auth) {
    xfrm_algo_auth a{};
    std::strncpy(a.alg_name, kernel_auth_name(*s.auth), sizeof a.alg_name - 1);
    a.alg_key_len = static_cast<unsigned>(s.auth_key.size() * 8);
    a.alg_trunc_len = s.auth_trunc_bits;
    m.attribute(XFRMA_ALG_AUTH_TRUNC, &a, sizeof a, s.auth_key.data(), s.auth_key.size());
  }
  if (s.enc) {
    if (is_aead(*s.enc)) {
      xfrm_algo_aead a{};
      std::strncpy(a.alg_name, kernel_enc_name(*s.enc), sizeof a.alg_name - 1);
      a.alg_key_len = static_cast<unsigned>(s.enc_key.size() * 8);
      a.alg_icv_len = s.icv_bits;
      m.attribute(XFRMA_ALG_AEAD, &a, sizeof a, s.enc_key.data(), s.enc_key.size());
    } else {
      xfrm_algo a{};
      std::strncpy(a.alg_name, kernel_enc_name(*s.enc), sizeof a.alg_name - 1);
      a.alg_key_len = static_cast<unsigned>(s.enc_key.size() * 8);
      m.attribute(XFRMA_ALG_CRYPT, &a, sizeof a, s.enc_key.data(), s.enc_key.size());
    }
  }
  if (s.comp) {
    xfrm_algo a{};
    std::strncpy(a.alg_name, "deflate", sizeof a.alg_name - 1);
    m.attribute(XFRMA_ALG_COMP, &a, sizeof a);
  }
  if (s.encap_sport != 0 || s.encap_dport != 0) {
    xfrm_encap_tmpl e{};
    e.encap_type = 2;  // UDP_ENCAP_ESPINUDP (RFC 3948)
    e.encap_sport = htons(s.encap_sport);
    e.encap_dport = htons(s.encap_dport);
    m.attribute(XFRMA_ENCAP, &e, sizeof e);
  }
  if (s.mark != 0) {
    xfrm_mark mark{s.mark, ~0U};
    m.attribute(XFRMA_MARK, &mark, sizeof mark);
  }
}

std::optional<KernelPolicy> decode_policy(const nlmsghdr& message) {
  xfrm_userpolicy_info info;
  if (!read_payload(message, info)) return std::nullopt;
  auto p = policy_from(info);
  if (p) read_policy_attributes(*p, message, sizeof info);
  return p;
}

std::optional<KernelState> decode_state(const nlmsghdr& message) {
  xfrm_usersa_info info;
  if (!read_payload(message, info)) return std::nullopt;
  auto s = state_from(info);
  if (s) read_state_attributes(*s, message, sizeof info);
  return s;
}

namespace {
// Delete notifications carry the entry's id, then the whole entry as an
// attribute.
template <typename Id, typename Info>
std::optional<Info> deleted_entry(const nlmsghdr& message, std::uint16_t attribute) {
  Id id;
  std::optional<Info> found;
  if (!read_payload(message, id)) return found;
  for_each_attribute(message, sizeof id, [&](std::uint16_t type, const std::uint8_t* data,
                                             std::size_t size) {
    Info info;
    if (type == attribute && read_value(data, size, info)) found = info;
  });
  return found;
}
}  // namespace

MonitorEvent decode_event(const nlmsghdr& message) {
  MonitorEvent e;
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(&message);
  e.raw.assign(bytes, bytes + message.nlmsg_len);
  switch (message.nlmsg_type) {
    case XFRM_MSG_NEWSA: e.name = "sadb_add"; e.state = decode_state(message); break;
    case XFRM_MSG_UPDSA: e.name = "sadb_update"; e.state = decode_state(message); break;
    case XFRM_MSG_DELSA: {
      e.name = "sadb_delete";
      if (auto info = deleted_entry<xfrm_usersa_id, xfrm_usersa_info>(message, XFRMA_SA))
        e.state = state_from(*info);
      break;
    }
    case XFRM_MSG_EXPIRE: {
      xfrm_user_expire expire;
      if (read_payload(message, expire)) {
        e.name = "sadb_expire";
        e.state = state_from(expire.state);
        e.detail = expire.hard ? "hard lifetime" : "soft lifetime";
      }
      break;
    }
    case XFRM_MSG_ACQUIRE: {
      e.name = "sadb_acquire";
      xfrm_user_acquire acquire;
      if (read_payload(message, acquire)) {
        e.policy = policy_from(acquire.policy);
        if (e.policy) read_policy_attributes(*e.policy, message, sizeof acquire);
        Family family = family_of(acquire.policy.sel.family);
        char text[160];
        char src[INET6_ADDRSTRLEN] = "?", dst[INET6_ADDRSTRLEN] = "?";
        inet_ntop(af_of(family), &acquire.saddr, src, sizeof src);
        inet_ntop(af_of(family), &acquire.id.daddr, dst, sizeof dst);
        std::snprintf(text, sizeof text, "%s from %s to %s seq %u",
                      acquire.id.proto == 50 ? "esp" : acquire.id.proto == 51 ? "ah" : "ipsec",
                      src, dst, acquire.seq);
        e.detail = text;
      }
      break;
    }
    case XFRM_MSG_NEWPOLICY: e.name = "sadb_x_spdadd"; e.policy = decode_policy(message); break;
    case XFRM_MSG_UPDPOLICY: e.name = "sadb_x_spdupdate"; e.policy = decode_policy(message); break;
    case XFRM_MSG_DELPOLICY: {
      e.name = "sadb_x_spddelete";
      if (auto info = deleted_entry<xfrm_userpolicy_id, xfrm_userpolicy_info>(message, XFRMA_POLICY)) {
        e.policy = policy_from(*info);
        // The templates travel too: the flow is shown as it was (type, peer).
        if (e.policy) read_policy_attributes(*e.policy, message, sizeof(xfrm_userpolicy_id));
      }
      break;
    }
    case XFRM_MSG_POLEXPIRE: {
      xfrm_user_polexpire expire;
      e.name = "sadb_x_spdexpire";
      if (read_payload(message, expire)) {
        e.policy = policy_from(expire.pol);
        if (e.policy) read_policy_attributes(*e.policy, message, sizeof expire);
      }
      break;
    }
    case XFRM_MSG_FLUSHSA: e.name = "sadb_flush"; break;
    case XFRM_MSG_FLUSHPOLICY: e.name = "sadb_x_spdflush"; break;
    case XFRM_MSG_NEWAE: e.name = "sadb_x_replay"; break;
    case XFRM_MSG_REPORT: e.name = "sadb_x_report"; break;
    case XFRM_MSG_MIGRATE: e.name = "sadb_x_migrate"; break;
    case XFRM_MSG_MAPPING: e.name = "sadb_x_nat_t_new_mapping"; break;
    default: e.name = "unknown"; break;
  }
  return e;
}

}  // namespace ipsecctl::backends::xfrm
