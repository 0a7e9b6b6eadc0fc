#include "compiler/keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "common/diagnostics.h"
#include "common/unique_fd.h"

namespace ipsecctl::compiler {

namespace {
constexpr off_t kKeyFileLimit = 1024;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::vector<std::uint8_t> parse_hex_key(const std::string& hex,
                                        const std::function<void()>& bad_pair) {
  std::vector<std::uint8_t> key(hex.size() / 2);
  for (std::size_t i = 0; i < key.size(); ++i) {
    int hi = hex_value(hex[2 * i]);
    int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      bad_pair();
      key[i] = 0xff;
      continue;
    }
    key[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return key;
}

std::vector<std::uint8_t> read_key_file(const std::string& path,
                                        const std::function<void()>& bad_pair) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) Diagnostics::fatal("open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    Diagnostics::fatal("parsekeyfile: stat " + path + ": " + std::strerror(errno));
  if (st.st_size == 0 || st.st_size > kKeyFileLimit)
    Diagnostics::fatal(path + ": key too " + (st.st_size != 0 ? "large" : "small"));
  std::string content(static_cast<std::size_t>(st.st_size), '\0');
  const ssize_t got = ::read(fd.get(), content.data(), content.size());
  if (got < st.st_size) Diagnostics::fatal("parsekeyfile: read: " + std::string(std::strerror(errno)));
  return parse_hex_key(content, bad_pair);
}

std::string format_hex_key(const std::vector<std::uint8_t>& key) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(key.size() * 2);
  for (std::uint8_t b : key) {
    s += kDigits[b >> 4];
    s += kDigits[b & 15];
  }
  return s;
}

}  // namespace ipsecctl::compiler
