// State shared between the Flex scanner and the parse driver.
#pragma once

#include <cstdint>
#include <string>

namespace ipsecctl::parser {

class ParseDriver;

struct ScanState {
  ParseDriver* driver = nullptr;
  std::uint32_t line = 1;        // physical line the scanner is on
  std::uint32_t token_line = 1;  // line the current token started on
  bool macro_text = false;       // reading a macro's value: `$` is not special
  std::string text;              // quoted string being collected
};

}  // namespace ipsecctl::parser
