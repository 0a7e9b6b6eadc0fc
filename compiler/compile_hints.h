// What to tell a user about an error the compiler found, beyond OpenBSD's
// text: which part of an address is out of range, the transform or
// service they probably meant. Shown under the caret only.
#pragma once

#include <string>

namespace ipsecctl::compiler::hints {

std::string bad_host(const std::string& spec);
std::string unknown_port(const std::string& name);
std::string unknown_protocol(const std::string& name);
// `table` is 'a' (auth), 'e' (enc), 'c' (comp) or 'g' (group).
std::string bad_transform(char table, const std::string& name);

}  // namespace ipsecctl::compiler::hints
