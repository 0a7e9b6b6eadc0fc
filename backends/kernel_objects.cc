#include "backends/kernel_objects.h"

#include <cstring>

namespace ipsecctl::backends {

std::uint8_t ipproto_of(SaType type) {
  switch (type) {
    case SaType::Esp: return 50;
    case SaType::Ah: return 51;
    case SaType::Ipcomp: return 108;
    case SaType::Ipip: return 4;
    case SaType::Tcpmd5: return 6;
  }
  return 0;
}

std::optional<SaType> satype_of(std::uint8_t ipproto) {
  switch (ipproto) {
    case 50: return SaType::Esp;
    case 51: return SaType::Ah;
    case 108: return SaType::Ipcomp;
    case 4: return SaType::Ipip;
    default: return std::nullopt;
  }
}

namespace {

// Two independent 64-bit accumulators (multiply-xorshift mixing); 128 bits
// make a collision between 10^6 entries practically impossible, so
// fingerprints can stand in for the entries when diffing large sets.
class Hasher {
 public:
  void bytes(const void* data, std::size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    while (size >= 8) {
      std::uint64_t word;
      std::memcpy(&word, p, 8);
      mix(word);
      p += 8;
      size -= 8;
    }
    std::uint64_t tail = 0;
    std::memcpy(&tail, p, size);
    mix(tail ^ (static_cast<std::uint64_t>(size) << 56));
  }
  void value(std::uint64_t v) { mix(v); }
  void address(const IpAddress& a) {
    value(static_cast<std::uint64_t>(a.family) << 8 | a.prefixlen);
    bytes(a.bytes.data(), a.bytes.size());
  }
  Fingerprint finish() const { return {final_mix(a_), final_mix(b_ ^ 0x9e3779b97f4a7c15ULL)}; }
  std::uint64_t finish64() const { return final_mix(a_ ^ final_mix(b_)); }

 private:
  void mix(std::uint64_t v) {
    a_ = (a_ ^ v) * 0xff51afd7ed558ccdULL;
    a_ ^= a_ >> 32;
    b_ = (b_ + v) * 0xc4ceb9fe1a85ec53ULL;
    b_ ^= b_ >> 29;
  }
  static std::uint64_t final_mix(std::uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
  }
  std::uint64_t a_ = 0x243f6a8885a308d3ULL;
  std::uint64_t b_ = 0x13198a2e03707344ULL;
};

void hash_selector(Hasher& h, const Selector& s) {
  h.address(s.src);
  h.address(s.dst);
  h.value(static_cast<std::uint64_t>(s.proto) << 32 | static_cast<std::uint64_t>(s.sport) << 16 |
          s.dport);
}

}  // namespace

Fingerprint policy_identity(const KernelPolicy& p) {
  Hasher h;
  hash_selector(h, p.selector);
  h.value(static_cast<std::uint64_t>(p.dir));
  h.value(static_cast<std::uint64_t>(p.mark) << 32 | p.mark_mask);
  h.value(static_cast<std::uint64_t>(p.if_id) << 1 | (p.has_security_context ? 1 : 0));
  return h.finish();
}

std::uint64_t policy_content(const KernelPolicy& p) {
  Hasher h;
  h.value(static_cast<std::uint64_t>(p.priority) << 1 | (p.block ? 1 : 0));
  for (const PolicyTemplate& t : p.templates) {
    h.value(static_cast<std::uint64_t>(t.ipproto) << 16 |
            static_cast<std::uint64_t>(t.mode) << 8 | (t.optional ? 1 : 0));
    h.address(t.src);
    h.address(t.dst);
    h.value(static_cast<std::uint64_t>(t.reqid) << 32 | t.spi);
  }
  return h.finish64();
}

Fingerprint state_identity(const KernelState& s) {
  Hasher h;
  h.address(s.dst);
  h.value(static_cast<std::uint64_t>(s.ipproto) << 32 | s.spi);
  h.value(s.mark);
  return h.finish();
}

std::uint64_t state_content(const KernelState& s) {
  Hasher h;
  h.address(s.src);
  h.value(static_cast<std::uint64_t>(s.mode) << 40 | static_cast<std::uint64_t>(s.reqid) << 8 |
          (s.comp ? 1 : 0) | (s.any_inner_family ? 2 : 0));
  h.value(s.auth ? static_cast<std::uint64_t>(*s.auth) + 1 : 0);
  h.bytes(s.auth_key.data(), s.auth_key.size());
  h.value(s.auth_trunc_bits);
  h.value(s.enc ? static_cast<std::uint64_t>(*s.enc) + 1 : 0);
  h.bytes(s.enc_key.data(), s.enc_key.size());
  h.value(static_cast<std::uint64_t>(s.icv_bits) << 32 | s.replay_window);
  h.value(static_cast<std::uint64_t>(s.encap_sport) << 16 | s.encap_dport);
  h.value(s.if_id);
  return h.finish64();
}

unsigned selector_specificity(const Selector& s) {
  return static_cast<unsigned>(s.src.prefixlen) + s.dst.prefixlen + (s.proto != 0 ? 8u : 0u) +
         (s.sport != 0 ? 16u : 0u) + (s.dport != 0 ? 16u : 0u);
}

}  // namespace ipsecctl::backends
