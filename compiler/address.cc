#include "compiler/address.h"

#include <algorithm>

#include <cstdio>
#include <cstring>

namespace ipsecctl::compiler {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// inet_pton(AF_INET): four dotted decimal octets, no leading zeros,
// nothing else.
//
// Where the C library decides what a numeric address is, these routines
// follow the one OpenBSD's answers in the conformance sets were recorded
// with (GNU libc, as on this system): its error texts ("Success") and
// interface names ("fe80::1%lo") show it.
bool pton4(std::string_view text, std::uint8_t* out) {
  std::uint8_t tmp[4] = {0, 0, 0, 0};
  std::size_t tp = 0;
  bool saw_digit = false;
  int octets = 0;
  for (char ch : text) {
    if (is_digit(ch)) {
      const unsigned value = tmp[tp] * 10u + static_cast<unsigned>(ch - '0');
      if (saw_digit && tmp[tp] == 0) return false;
      if (value > 255) return false;
      if (!saw_digit) {
        if (++octets > 4) return false;
        saw_digit = true;
      }
      tmp[tp] = static_cast<std::uint8_t>(value);
    } else if (ch == '.' && saw_digit) {
      if (octets == 4) return false;
      tmp[++tp] = 0;
      saw_digit = false;
    } else {
      return false;
    }
  }
  if (octets < 4) return false;
  std::copy(tmp, tmp + 4, out);
  return true;
}

}  // namespace

std::optional<IpAddress> parse_ipv4(std::string_view text) {
  IpAddress a;
  a.family = Family::Inet;
  a.prefixlen = 32;
  if (!pton4(text, a.bytes.data())) return std::nullopt;
  return a;
}

// inet_aton as GNU libc reads it (getaddrinfo tries it before any name
// lookup): 1 to 4 parts, each as strtoul(base 0) reads it (decimal, octal
// 0..., hex 0x...); the last part fills the bytes that remain ("127.1" is
// 127.0.0.1). A part that does not fit is no address at all: the C
// library refuses it rather than keep its low bits, so a long hex typo
// can never become somebody else's address.
std::optional<IpAddress> parse_inet_aton(std::string_view text) {
  static constexpr std::uint64_t kLastPartMax[4] = {0xffffffff, 0xffffff, 0xffff, 0xff};
  std::uint32_t parts[3] = {};
  std::size_t count = 0;
  std::size_t i = 0;
  auto at = [&](std::size_t k) { return k < text.size() ? text[k] : '\0'; };
  std::uint64_t val = 0;
  bool digit = false;
  for (;;) {
    if (!is_digit(at(i))) return std::nullopt;
    // strtoul(base 0): "0x" followed by a hex digit is hex, another
    // leading 0 is octal; it stops at the first byte that does not fit.
    std::uint64_t base = 10;
    std::size_t p = i;
    if (at(p) == '0' && (at(p + 1) == 'x' || at(p + 1) == 'X') && hex_value(at(p + 2)) >= 0) {
      base = 16;
      p += 2;
    } else if (at(p) == '0') {
      base = 8;
    }
    val = 0;
    bool overflow = false;
    const std::size_t first = p;
    for (;; ++p) {
      const int d = hex_value(at(p));
      if (d < 0 || static_cast<std::uint64_t>(d) >= base) break;
      if (val > (std::uint64_t{0xffffffff} - static_cast<std::uint64_t>(d)) / base) overflow = true;
      else val = val * base + static_cast<std::uint64_t>(d);
    }
    if (overflow) return std::nullopt;
    digit = p != first;
    i = p;
    if (at(i) != '.') break;
    if (count >= 3 || val > 0xff) return std::nullopt;
    parts[count++] = static_cast<std::uint32_t>(val);
    ++i;
  }
  if (!digit) return std::nullopt;
  const char c = at(i);
  if (c != '\0' && !(c == ' ' || (c >= '\t' && c <= '\r'))) return std::nullopt;
  if (c == '\0' && i != text.size()) return std::nullopt;
  if (val > kLastPartMax[count]) return std::nullopt;
  for (std::size_t k = 0; k < count; ++k) val |= static_cast<std::uint64_t>(parts[k]) << (24 - 8 * k);
  IpAddress a;
  a.family = Family::Inet;
  a.prefixlen = 32;
  a.bytes[0] = static_cast<std::uint8_t>(val >> 24);
  a.bytes[1] = static_cast<std::uint8_t>(val >> 16);
  a.bytes[2] = static_cast<std::uint8_t>(val >> 8);
  a.bytes[3] = static_cast<std::uint8_t>(val);
  return a;
}

// OpenBSD's inet_net_pton(AF_INET): "0x" and a nybble string, or 1 to 4
// dotted decimal octets, then maybe "/bits"; without bits the width comes
// from the address class. Host bits are kept.
std::optional<IpAddress> parse_ipv4_network(std::string_view text) {
  IpAddress a;
  a.family = Family::Inet;
  std::size_t written = 0;  // bytes of the address given
  bool partial = false;     // a trailing odd nybble
  std::size_t i = 0;
  auto at = [&](std::size_t k) { return k < text.size() ? text[k] : '\0'; };
  char ch = at(i++);
  if (ch == '0' && (at(i) == 'x' || at(i) == 'X') && hex_value(at(i + 1)) >= 0) {
    ++i;
    int nybbles = 0;
    while ((ch = at(i++)) != '\0' && hex_value(ch) >= 0) {
      // Two nybbles a byte; OpenBSD tolerates a ninth and fails on the tenth.
      if (++nybbles > 9) return std::nullopt;
      if (nybbles <= 8) {
        const std::size_t byte = static_cast<std::size_t>((nybbles - 1) / 2);
        if (nybbles % 2 == 1)
          a.bytes[byte] = static_cast<std::uint8_t>(hex_value(ch) << 4);
        else
          a.bytes[byte] = static_cast<std::uint8_t>(a.bytes[byte] | hex_value(ch));
      }
    }
    written = static_cast<std::size_t>(std::min(nybbles, 8) / 2);
    // A half-written byte counts against the room but not as written.
    if (nybbles % 2 == 1) partial = true;
  } else if (is_digit(ch)) {
    for (;;) {
      unsigned value = 0;
      do {
        value = value * 10 + static_cast<unsigned>(ch - '0');
        if (value > 255) return std::nullopt;
      } while ((ch = at(i++)) != '\0' && is_digit(ch));
      if (written >= 4) return std::nullopt;
      a.bytes[written++] = static_cast<std::uint8_t>(value);
      if (ch == '\0' || ch == '/') break;
      if (ch != '.') return std::nullopt;
      ch = at(i++);
      if (!is_digit(ch)) return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
  int bits = -1;
  if (ch == '/' && is_digit(at(i)) && written > 0) {
    ch = at(i++);
    bits = 0;
    do {
      bits = bits * 10 + (ch - '0');
      if (bits > 1000) bits = 1000;  // only "too large" matters below
    } while ((ch = at(i++)) != '\0' && is_digit(ch));
    if (ch != '\0') return std::nullopt;
    if (bits > 32) return std::nullopt;
  }
  if (ch != '\0' || i - 1 != text.size()) return std::nullopt;
  if (written == 0) return std::nullopt;
  if (bits == -1) {
    const std::uint8_t first = a.bytes[0];
    bits = first >= 240 ? 32 : first >= 224 ? 4 : first >= 192 ? 24 : first >= 128 ? 16 : 8;
    if (bits < static_cast<int>(written * 8)) bits = static_cast<int>(written * 8);
  }
  // The network is extended with zero bytes to cover the mask, in the room
  // the 4-byte buffer has left.
  const long room = 4 - static_cast<long>(written) - (partial ? 1 : 0);
  long needed = 0;
  for (int covered = static_cast<int>(written) * 8; bits > covered; covered += 8) ++needed;
  if (needed > room) return std::nullopt;
  for (long k = 0; k < needed; ++k) a.bytes[written + static_cast<std::size_t>(k)] = 0;
  a.prefixlen = static_cast<std::uint8_t>(bits);
  return a;
}

// inet_pton(AF_INET6), as getaddrinfo with AI_NUMERICHOST uses it: up to
// four hex digits a group, "::" once and never for zero groups, and the
// last 32 bits may be written as a dotted quad.
std::optional<IpAddress> parse_ipv6(std::string_view text) {
  std::uint8_t tmp[16] = {};
  std::size_t tp = 0;
  const std::size_t endp = 16;
  std::optional<std::size_t> colonp;
  std::size_t i = 0;
  auto at = [&](std::size_t k) { return k < text.size() ? text[k] : '\0'; };
  if (at(0) == ':') {
    if (at(1) != ':') return std::nullopt;
    i = 1;
  }
  std::size_t curtok = i;
  int xdigits_seen = 0;
  bool saw_xdigit = false;
  unsigned val = 0;
  char ch;
  bool ended_with_ipv4 = false;
  while ((ch = at(i++)) != '\0') {
    const int x = hex_value(ch);
    if (x >= 0) {
      if (xdigits_seen == 4) return std::nullopt;
      val = (val << 4) | static_cast<unsigned>(x);
      if (val > 0xffff) return std::nullopt;
      ++xdigits_seen;
      saw_xdigit = true;
      continue;
    }
    if (ch == ':') {
      curtok = i;
      if (!saw_xdigit) {
        if (colonp) return std::nullopt;
        colonp = tp;
        continue;
      }
      if (at(i) == '\0') return std::nullopt;
      if (tp + 2 > endp) return std::nullopt;
      tmp[tp++] = static_cast<std::uint8_t>(val >> 8);
      tmp[tp++] = static_cast<std::uint8_t>(val & 0xff);
      saw_xdigit = false;
      xdigits_seen = 0;
      val = 0;
      continue;
    }
    if (ch == '.' && tp + 4 <= endp && curtok <= text.size() &&
        pton4(text.substr(curtok), tmp + tp)) {
      tp += 4;
      saw_xdigit = false;
      ended_with_ipv4 = true;
      break;
    }
    return std::nullopt;
  }
  if (saw_xdigit && !ended_with_ipv4) {
    if (tp + 2 > endp) return std::nullopt;
    tmp[tp++] = static_cast<std::uint8_t>(val >> 8);
    tmp[tp++] = static_cast<std::uint8_t>(val & 0xff);
  }
  if (colonp) {
    if (tp == endp) return std::nullopt;  // "::" standing for no group
    const std::size_t n = tp - *colonp;
    for (std::size_t k = 1; k <= n; ++k) {
      tmp[endp - k] = tmp[*colonp + n - k];
      tmp[*colonp + n - k] = 0;
    }
    tp = endp;
  }
  if (tp != endp) return std::nullopt;
  IpAddress a;
  a.family = Family::Inet6;
  a.prefixlen = 128;
  std::copy(tmp, tmp + 16, a.bytes.begin());
  return a;
}

namespace {

std::string format(const IpAddress& a, bool dotted_tail) {
  char out[64];
  if (a.family == Family::Inet) {
    std::snprintf(out, sizeof out, "%u.%u.%u.%u", a.bytes[0], a.bytes[1], a.bytes[2], a.bytes[3]);
    return out;
  }
  if (a.family != Family::Inet6) return "?";
  // RFC 4291 text form as the BSD inet_ntop writes it: the longest run of
  // two or more zero words becomes "::" (the first one on a tie), and
  // ::a.b.c.d / ::ffff:a.b.c.d keep the dotted tail.
  unsigned words[8];
  for (int i = 0; i < 8; ++i)
    words[i] = (static_cast<unsigned>(a.bytes[static_cast<std::size_t>(2 * i)]) << 8) |
               a.bytes[static_cast<std::size_t>(2 * i + 1)];
  int best_base = -1, best_len = 0, cur_base = -1, cur_len = 0;
  for (int i = 0; i < 8; ++i) {
    if (words[i] == 0) {
      if (cur_base == -1) {
        cur_base = i;
        cur_len = 1;
      } else {
        ++cur_len;
      }
    } else if (cur_base != -1) {
      if (best_base == -1 || cur_len > best_len) {
        best_base = cur_base;
        best_len = cur_len;
      }
      cur_base = -1;
    }
  }
  if (cur_base != -1 && (best_base == -1 || cur_len > best_len)) {
    best_base = cur_base;
    best_len = cur_len;
  }
  if (best_base != -1 && best_len < 2) best_base = -1;

  std::string s;
  for (int i = 0; i < 8; ++i) {
    if (best_base != -1 && i >= best_base && i < best_base + best_len) {
      if (i == best_base) s += ':';
      continue;
    }
    if (i != 0) s += ':';
    if (dotted_tail && i == 6 && best_base == 0 &&
        (best_len == 6 || (best_len == 5 && words[5] == 0xffff))) {
      std::snprintf(out, sizeof out, "%u.%u.%u.%u", a.bytes[12], a.bytes[13], a.bytes[14],
                    a.bytes[15]);
      s += out;
      return s;
    }
    std::snprintf(out, sizeof out, "%x", words[i]);
    s += out;
  }
  if (best_base != -1 && best_base + best_len == 8) s += ':';
  return s;
}

}  // namespace

std::string format_address(const IpAddress& a) { return format(a, true); }
std::string format_address_hex(const IpAddress& a) { return format(a, false); }

std::string format_prefix(const IpAddress& a) {
  std::string s = format_address(a);
  if (!a.full_length()) s += "/" + std::to_string(a.prefixlen);
  return s;
}

std::string format_mask(const IpAddress& a) {
  IpAddress mask;
  mask.family = a.family;
  mask.prefixlen = a.prefixlen;
  for (std::size_t i = 0; i < a.size(); ++i) {
    int bits = static_cast<int>(a.prefixlen) - static_cast<int>(8 * i);
    int byte = bits >= 8 ? 0xff : bits <= 0 ? 0 : (0xff << (8 - bits)) & 0xff;
    mask.bytes[i] = static_cast<std::uint8_t>(byte);
  }
  return format_address(mask);
}

IpAddress any_address(Family family) {
  IpAddress a;
  a.family = family;
  a.prefixlen = 0;
  return a;
}

IpAddress network_of(const IpAddress& a) {
  IpAddress n = a;
  for (std::size_t i = 0; i < 16; ++i) {
    int bits = static_cast<int>(a.prefixlen) - static_cast<int>(8 * i);
    if (i >= a.size() || bits <= 0)
      n.bytes[i] = 0;
    else if (bits < 8)
      n.bytes[i] = static_cast<std::uint8_t>(a.bytes[i] & (0xff << (8 - bits)));
  }
  return n;
}

bool prefix_contains(const IpAddress& outer, const IpAddress& inner) {
  if (outer.family != inner.family || outer.prefixlen > inner.prefixlen) return false;
  IpAddress narrowed = inner;
  narrowed.prefixlen = outer.prefixlen;
  return network_of(narrowed).bytes == network_of(outer).bytes;
}

}  // namespace ipsecctl::compiler
