// Key material: `0xHEX[:0xHEX]` written in the file, or `file "a[:b]"`.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ipsecctl::compiler {

// Reads two hex digits per byte; a trailing odd digit (or a key file's
// final newline) is ignored. Every pair that is not hex is reported
// through `bad_pair` and yields an undefined byte, as in OpenBSD.
std::vector<std::uint8_t> parse_hex_key(const std::string& hex,
                                        const std::function<void()>& bad_pair);

// Reads a key file, throwing FatalError with OpenBSD's messages when it
// cannot be read, is empty, or is larger than 1024 bytes.
std::vector<std::uint8_t> read_key_file(const std::string& path,
                                        const std::function<void()>& bad_pair);

std::string format_hex_key(const std::vector<std::uint8_t>& key);

}  // namespace ipsecctl::compiler
