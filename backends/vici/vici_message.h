// strongSwan's VICI messages: a tree of sections, key/value pairs and
// lists, every value a byte string. Encoding and decoding follow the
// protocol's element types (section start/end, key-value, list
// start/item/end) with 1-byte names and 2-byte big-endian value lengths.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ipsecctl::backends::vici {

class ViciError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ViciItem;
using ViciSection = std::vector<ViciItem>;

struct ViciItem {
  enum class Kind : std::uint8_t { Value, List, Section };
  Kind kind = Kind::Value;
  std::string name;
  std::string value;              // Value
  std::vector<std::string> list;  // List
  ViciSection section;            // Section
};

ViciItem value(std::string name, std::string v);
ViciItem list(std::string name, std::vector<std::string> items);
ViciItem section(std::string name, ViciSection items);

const ViciItem* find(const ViciSection& s, const std::string& name);
// The value of a key, or "" when absent.
std::string value_of(const ViciSection& s, const std::string& name);

std::vector<std::uint8_t> encode(const ViciSection& message);
// Throws ViciError on malformed input.
ViciSection decode(const std::uint8_t* data, std::size_t size);

}  // namespace ipsecctl::backends::vici
