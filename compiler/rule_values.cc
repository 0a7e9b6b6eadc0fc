// The small values of a statement: SPIs, transforms, keys, lifetimes,
// sec(4) interface units and identities with a prefix.
#include "compiler/rule_compiler.h"

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>

#include "compiler/compile_hints.h"
#include "compiler/keys.h"

namespace ipsecctl::compiler {

namespace {

constexpr std::uint32_t kSpiReservedMin = 1;
constexpr std::uint32_t kSpiReservedMax = 255;

}  // namespace

// OpenBSD's atospi(): strtoul(s, 0) over the whole word (C rules: 0x is
// hex, 0 octal, a sign is taken), then the 32-bit and reserved range checks.
std::optional<std::uint32_t> RuleCompiler::spi_word(const std::string& text) {
  errno = 0;
  char* end = nullptr;
  const unsigned long value = std::strtoul(text.c_str(), &end, 0);
  if (text.empty() || *end != '\0') return std::nullopt;  // no message of its own
  if (errno == ERANGE && value == ULONG_MAX) return std::nullopt;
  if (value > UINT32_MAX) {
    diag_.error(std::to_string(value) + " not a valid spi",
                hinted([] { return std::string("an SPI is 32 bits: at most 0xffffffff"); }));
    return std::nullopt;
  }
  if (value >= kSpiReservedMin && value <= kSpiReservedMax) {
    diag_.error(std::to_string(value) + " within reserved spi range",
                hinted([] { return std::string("SPIs 1 to 255 are reserved; use 256 or above"); }));
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(value);
}

std::optional<parser::SpiClause> RuleCompiler::spi(const std::string& text) {
  parser::SpiClause spi;
  std::string out = text;
  // The reverse SPI, after the first colon, is read first.
  if (auto colon = text.find(':'); colon != std::string::npos) {
    out = text.substr(0, colon);
    auto in = spi_word(text.substr(colon + 1));
    if (!in) return std::nullopt;
    spi.in = *in;
  }
  auto value = spi_word(out);
  if (!value) return std::nullopt;
  spi.out = *value;
  return spi;
}

std::optional<parser::SpiClause> RuleCompiler::spi(long long number) {
  if (number > static_cast<long long>(UINT32_MAX) || number < 0) {
    diag_.error(std::to_string(number) + " not a valid spi");
    return std::nullopt;
  }
  if (number >= kSpiReservedMin && number <= kSpiReservedMax) {
    diag_.error(std::to_string(number) + " within reserved spi range");
    return std::nullopt;
  }
  return parser::SpiClause{static_cast<std::uint32_t>(number), 0};
}

parser::TransformsRef RuleCompiler::new_transforms() { return std::make_shared<TransformSet>(); }

void RuleCompiler::add_transform(const parser::TransformsRef& set, parser::TransformKind kind,
                                 const std::string& name) {
  using K = parser::TransformKind;
  auto set_one = [&](auto& slot, auto* found, const char* what, char table) {
    if (slot != nullptr) {
      diag_.error(std::string(what) + " already set", hinted([&] {
        return "each of auth, enc, comp and group may be given once per phase";
      }));
      return;
    }
    slot = found;
    if (found == nullptr)
      diag_.error(name + " not a valid transform",
                  hinted([&] { return hints::bad_transform(table, name); }));
  };
  switch (kind) {
    case K::Auth: set_one(set->auth, find_auth(name), "auth", 'a'); break;
    case K::Enc: set_one(set->enc, find_enc(name), "enc", 'e'); break;
    case K::Comp: set_one(set->comp, find_comp(name), "comp", 'c'); break;
    case K::Group: set_one(set->group, find_group(name), "group", 'g'); break;
  }
}

std::vector<std::uint8_t> RuleCompiler::hex_key(const std::string& text) {
  return parse_hex_key(text, [this] { diag_.error("keys need to be specified in hex digits"); });
}

parser::KeysRef RuleCompiler::key_literal(const std::string& text) {
  auto keys = std::make_shared<KeyPair>();
  auto strip = [](std::string s) { return s.rfind("0x", 0) == 0 ? s.substr(2) : s; };
  std::string out = text;
  // The reverse key is read first, as OpenBSD does: its errors come first.
  if (auto colon = text.find(':'); colon != std::string::npos) {
    out = text.substr(0, colon);
    keys->in = hex_key(strip(text.substr(colon + 1)));
  }
  keys->out = hex_key(strip(out));
  return keys;
}

parser::KeysRef RuleCompiler::key_file(const std::string& paths) {
  auto keys = std::make_shared<KeyPair>();
  auto bad = [this] { diag_.error("keys need to be specified in hex digits"); };
  std::string out = paths;
  if (auto colon = paths.find(':'); colon != std::string::npos) {
    out = paths.substr(0, colon);
    keys->in = read_key_file(paths.substr(colon + 1), bad);
  }
  keys->out = read_key_file(out, bad);
  return keys;
}

long long RuleCompiler::lifetime(long long seconds) { return seconds; }

// OpenBSD's parse_life(): sscanf(value, "%d%c"), minutes or hours by the
// unit character, in int arithmetic.
long long RuleCompiler::lifetime(const std::string& text) {
  std::size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || (text[i] >= '\t' && text[i] <= '\r'))) ++i;
  const std::size_t number_start = i;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  const std::size_t digits_start = i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  // Not even a number: err() adds whatever errno an earlier call left.
  if (i == digits_start) diag_.fatal_with_errno("invalid time specification: " + text);
  // %d converts with strtoimax (saturating) and stores into an int.
  errno = 0;
  const long long wide = std::strtoll(text.c_str() + number_start, nullptr, 10);
  auto seconds = static_cast<std::int32_t>(static_cast<std::uint32_t>(wide));
  if (i == text.size()) return seconds;  // no unit: sscanf returned 1
  auto wrap = [](std::int64_t v) {
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
  };
  switch (std::tolower(static_cast<unsigned char>(text[i]))) {
    case 'm': return wrap(static_cast<std::int64_t>(seconds) * 60);
    case 'h': return wrap(static_cast<std::int64_t>(seconds) * 60 * 60);
    default:
      diag_.fatal_with_errno("invalid time unit");
  }
}

std::optional<unsigned> RuleCompiler::sec_interface(const std::string& name) {
  if (name.size() <= 3 || name.rfind("sec", 0) != 0) {
    diag_.error("invalid sec interface name");
    return std::nullopt;
  }
  std::string unit = name.substr(3);
  errno = 0;
  char* end = nullptr;
  long long value = std::strtoll(unit.c_str(), &end, 10);
  const char* problem = nullptr;
  if (unit.empty() || *end != '\0') problem = "invalid";
  else if (errno == ERANGE || value > static_cast<long long>(UINT_MAX)) problem = "too large";
  else if (value < 0) problem = "too small";
  // OpenBSD's strtonum() gives errno back as it found it when the number
  // is good, and leaves EINVAL or ERANGE behind when it is not (see
  // Diagnostics).
  if (problem != nullptr)
    diag_.set_reference_errno(unit.empty() || *end != '\0' ? EINVAL : ERANGE);
  if (problem != nullptr) {
    diag_.error(std::string("invalid sec interface unit: ") + problem);
    return std::nullopt;
  }
  return static_cast<unsigned>(value);
}

bool RuleCompiler::id_takes_prefix(const std::string& id) {
  return parse_ipv4(id).has_value() || parse_ipv6(id).has_value();
}

// Accept what `ipsecctl -s` prints for address identities (a.b.c.d/32) so
// that such output can be pasted back; any other prefix is OpenBSD's
// syntax error, which the grammar reports.
std::optional<std::string> RuleCompiler::id_with_prefix(const std::string& id, long long prefix) {
  if ((parse_ipv4(id) && prefix == 32) || (parse_ipv6(id) && prefix == 128)) return id;
  return std::nullopt;
}

}  // namespace ipsecctl::compiler
