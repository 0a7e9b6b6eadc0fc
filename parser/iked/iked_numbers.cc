#include "parser/iked/iked_numbers.h"

#include <cerrno>
#include <climits>
#include <cstdlib>

namespace ipsecctl::iked {

NumberResult strtonum(const std::string& text, long long min, long long max) {
  NumberResult result;
  if (min > max) {
    result.problem = "invalid";
    return result;
  }
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0') {
    result.problem = "invalid";
  } else if ((value == LLONG_MIN && errno == ERANGE) || value < min) {
    result.problem = "too small";
  } else if ((value == LLONG_MAX && errno == ERANGE) || value > max) {
    result.problem = "too large";
  } else {
    result.value = value;
  }
  return result;
}

}  // namespace ipsecctl::iked
