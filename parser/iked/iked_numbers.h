// OpenBSD's strtonum(3), which iked uses for numbers, masks and units:
// the value, or why not ("invalid", "too small", "too large").
#pragma once

#include <string>

namespace ipsecctl::iked {

struct NumberResult {
  long long value = 0;
  const char* problem = nullptr;
};

NumberResult strtonum(const std::string& text, long long min, long long max);

}  // namespace ipsecctl::iked
