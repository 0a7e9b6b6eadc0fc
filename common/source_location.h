// Where something came from in the configuration.
//
// Two kinds of position, because OpenBSD's messages and a caret need
// different things:
//   SourceLocation  the file and the line OpenBSD's ipsecctl names in its
//                   messages (for a rule continued over several lines, the
//                   line of its last token). Every plan entry keeps one, so
//                   it is 8 bytes: files are interned in Diagnostics.
//   SourceSpan      the exact characters a token or clause occupies
//                   (physical line and byte columns, 1-based), for the
//                   caret under the source line.
#pragma once

#include <cstdint>

namespace ipsecctl {

struct SourceLocation {
  std::uint32_t file = 0;
  std::uint32_t line = 0;
};

struct SourceSpan {
  std::uint32_t file = 0;
  std::uint32_t line = 0;    // 0: unknown
  std::uint32_t column = 0;  // of the first character
  std::uint32_t end_line = 0;
  std::uint32_t end_column = 0;  // of the last character

  bool known() const { return line != 0; }
};

// The span from the start of `first` to the end of `last`.
inline SourceSpan join(const SourceSpan& first, const SourceSpan& last) {
  if (!first.known()) return last;
  if (!last.known()) return first;
  SourceSpan s = first;
  s.end_line = last.end_line;
  s.end_column = last.end_column;
  return s;
}

}  // namespace ipsecctl
