#pragma once

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "parser/grammar.hh"

namespace ipsecctl::parser {

// The keyword a word stands for, if any. Matching is exact and
// case-sensitive; quoted strings are never looked up.
std::optional<Parser::token_kind_type> lookup_keyword(std::string_view word);

// Every keyword, with its token.
std::vector<std::pair<std::string_view, Parser::token_kind_type>> all_keywords();

}  // namespace ipsecctl::parser
