// Fuzz target: what charon answers over VICI, decoded as a message and
// read as list-sas and get-conns answers are read.
#include <cstdint>

#include "backends/vici/vici_message.h"

using namespace ipsecctl::backends::vici;

namespace {
std::size_t walk(const ViciSection& s, int depth) {
  std::size_t n = 0;
  for (const ViciItem& item : s) {
    ++n;
    if (item.kind == ViciItem::Kind::Section && depth < 1000) n += walk(item.section, depth + 1);
    (void)value_of(s, item.name);
  }
  return n;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    ViciSection message = decode(data, size);
    (void)walk(message, 0);
    (void)find(message, "child-sas");
    // What we encode from it must decode to the same thing.
    std::vector<std::uint8_t> again = encode(message);
    (void)decode(again.data(), again.size());
  } catch (const ViciError&) {
  }
  return 0;
}
