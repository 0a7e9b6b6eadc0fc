#pragma once

#include <optional>
#include <string_view>

#include "parser/grammar.hh"

namespace ipsecctl::parser {

// The keyword a word stands for, if any. Matching is exact and
// case-sensitive; quoted strings are never looked up.
std::optional<Parser::token_kind_type> lookup_keyword(std::string_view word);

}  // namespace ipsecctl::parser
