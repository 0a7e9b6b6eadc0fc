#include "parser/iked/iked_driver.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cctype>
#include <cstring>

#include "parser/iked/iked_grammar.hh"

namespace ipsecctl::iked {
namespace {

// Thrown by fatal(): iked exits there; we unwind to parse().
struct Stop {
  std::string message;
};

}  // namespace

std::string display_name(const Host& host) {
  if (!host.name.empty()) return host.name;
  sockaddr_storage ss{};
  socklen_t len = 0;
  const Address& a = host.address;
  if (a.family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    in->sin_family = AF_INET;
    std::memcpy(&in->sin_addr, a.bytes.data(), 4);
    len = sizeof *in;
  } else if (a.family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    in6->sin6_family = AF_INET6;
    std::memcpy(&in6->sin6_addr, a.bytes.data(), 16);
    in6->sin6_scope_id = a.scope_id;
    len = sizeof *in6;
  } else {
    return {};
  }
  char buf[NI_MAXHOST];
  if (::getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, buf, sizeof buf, nullptr, 0,
                    NI_NUMERICHOST) != 0)
    return {};
  std::string name = buf;
  if (a.network) name += "/" + std::to_string(a.mask);
  return name;
}

Driver::Driver(Diagnostics& diagnostics, Semantics& semantics)
    : diag_(diagnostics), semantics_(semantics), lexer_(diagnostics, *this) {}

ParseResult Driver::parse(const std::string& path,
                          const std::vector<std::pair<std::string, std::string>>& defines) {
  ParseResult result;
  for (const auto& [name, value] : defines) lexer_.define(name, value, true);
  if (!lexer_.push_file(path, true)) {
    result.opened = false;
    result.errors = 1;
    return result;
  }
  return run();
}

ParseResult Driver::parse_text(const std::string& name, const std::string& text) {
  // fmemopen() refuses an empty buffer; an empty file reads as a newline.
  memory_text_ = text.empty() ? std::string("\n") : text;
  lexer_.push_stream(UniqueFile(::fmemopen(memory_text_.data(), memory_text_.size(), "r")), name);
  return run();
}

ParseResult Driver::run() {
  ParseResult result;
  Parser parser(*this);
  try {
    parser.parse();
  } catch (const Stop& stop) {
    result.fatal = stop.message;
  }
  lexer_.finish();
  result.errors = lexer_.errors();
  result.settings = settings_;
  return result;
}

bool Driver::include(const std::string& path) {
  if (!lexer_.push_file(path, true)) return false;
  lexer_.unget_newline();
  return true;
}

bool Driver::add_transform(NameTable table, const std::string& word,
                           std::vector<const TransformName*>& list) {
  const TransformName* xf = find_name(table, word);
  if (xf == nullptr) {
    error(word + " not a valid transform");
    return false;
  }
  list.push_back(xf);
  return true;
}

std::optional<std::vector<std::uint8_t>> Driver::parse_hex_key(const std::string& hex) {
  if (hex.size() / 2 > kPskMax) return std::nullopt;
  std::vector<std::uint8_t> key;
  key.reserve(hex.size() / 2);
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    const auto hi = static_cast<unsigned char>(hex[i]);
    const auto lo = static_cast<unsigned char>(hex[i + 1]);
    if (!std::isxdigit(hi) || !std::isxdigit(lo)) {
      error("keys need to be specified in hex digits");
      key.push_back(0xff);
      continue;
    }
    key.push_back(static_cast<std::uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return key;
}

void Driver::error(const std::string& message) {
  diag_.error_at(SourceLocation{lexer_.file_id(), lexer_.report_line()}, message);
  lexer_.count_error();
}

void Driver::warning(const std::string& message) { diag_.note(message); }

void Driver::plain(const std::string& line) { diag_.plain(line); }

void Driver::fatal(const std::string& message) {
  if (!message.empty()) diag_.note(message);
  throw Stop{message};
}

}  // namespace ipsecctl::iked
