#include "compiler/address.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

namespace ipsecctl::compiler {

namespace {
bool is_digit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

std::optional<IpAddress> parse_ipv4(std::string_view text) {
  IpAddress a;
  a.family = Family::Inet;
  a.prefixlen = 32;
  std::size_t i = 0;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (i >= text.size() || text[i] != '.') return std::nullopt;
      ++i;
    }
    std::size_t start = i;
    unsigned value = 0;
    while (i < text.size() && is_digit(text[i])) {
      value = value * 10 + static_cast<unsigned>(text[i] - '0');
      if (value > 255) return std::nullopt;
      ++i;
      if (i - start > 3) return std::nullopt;
    }
    if (i == start) return std::nullopt;
    // inet_pton refuses leading zeros ("01").
    if (i - start > 1 && text[start] == '0') return std::nullopt;
    a.bytes[static_cast<std::size_t>(octet)] = static_cast<std::uint8_t>(value);
  }
  if (i != text.size()) return std::nullopt;
  return a;
}

std::optional<IpAddress> parse_ipv4_network(std::string_view text) {
  IpAddress a;
  a.family = Family::Inet;
  std::size_t i = 0;
  std::size_t written = 0;
  if (text.empty() || !is_digit(text[0])) return std::nullopt;
  // Dotted decimal octets, as many as given (1 to 4).
  for (;;) {
    unsigned value = 0;
    std::size_t start = i;
    while (i < text.size() && is_digit(text[i])) {
      value = value * 10 + static_cast<unsigned>(text[i] - '0');
      if (value > 255) return std::nullopt;
      ++i;
    }
    if (i == start) return std::nullopt;
    if (written >= 4) return std::nullopt;
    a.bytes[written++] = static_cast<std::uint8_t>(value);
    if (i == text.size() || text[i] == '/') break;
    if (text[i] != '.') return std::nullopt;
    ++i;
    if (i >= text.size() || !is_digit(text[i])) return std::nullopt;
  }
  int bits = -1;
  if (i < text.size() && text[i] == '/' && i + 1 < text.size() && is_digit(text[i + 1])) {
    ++i;
    bits = 0;
    while (i < text.size() && is_digit(text[i])) {
      bits = bits * 10 + (text[i] - '0');
      if (bits > 32) return std::nullopt;
      ++i;
    }
  }
  if (i != text.size()) return std::nullopt;
  if (bits == -1) {
    // Classful width, as the BSD routine infers without a '/'.
    std::uint8_t first = a.bytes[0];
    bits = first >= 240 ? 32 : first >= 224 ? 4 : first >= 192 ? 24 : first >= 128 ? 16 : 8;
    if (bits < static_cast<int>(written * 8)) bits = static_cast<int>(written * 8);
    if (bits == 8 && first == 224) bits = 4;
  }
  a.prefixlen = static_cast<std::uint8_t>(bits);
  return a;
}

std::optional<IpAddress> parse_ipv6(std::string_view text) {
  // The grammar of IPv6 literals is the same everywhere; rely on libc.
  std::string copy(text);
  IpAddress a;
  a.family = Family::Inet6;
  a.prefixlen = 128;
  if (::inet_pton(AF_INET6, copy.c_str(), a.bytes.data()) != 1) return std::nullopt;
  return a;
}

std::string format_address(const IpAddress& a) {
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
    if (i == 6 && best_base == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff))) {
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
