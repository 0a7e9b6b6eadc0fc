// The keywords of iked.conf(5) (openiked 7.2): any other word is a STRING.
#pragma once

#include <optional>
#include <string_view>

#include "parser/iked/iked_grammar.hh"

namespace ipsecctl::iked {

std::optional<Parser::token_kind_type> keyword_token(std::string_view word);

}  // namespace ipsecctl::iked
