// What to tell a user about a syntax error, beyond OpenBSD's bare
// "syntax error": the keyword they probably meant, the order the grammar
// wants, the quoting a value needs. Shown under the caret only, so the
// OpenBSD text scripts read stays the same.
#pragma once

#include <string>
#include <vector>

#include "parser/grammar.hh"
#include "parser/macro_table.h"

namespace ipsecctl::parser::hints {

// `lookahead` is the token the grammar could not take, `statement` the
// tokens of the statement so far (the lookahead last; `first_word` the
// text of the first when it is a word), `expected` what the grammar would
// have taken instead (LALR lookaheads: a superset).
std::string for_syntax_error(Parser::symbol_kind_type lookahead, const std::string& text,
                             const std::string& first_word,
                             const std::vector<Parser::symbol_kind_type>& statement,
                             const std::vector<Parser::symbol_kind_type>& expected,
                             const MacroTable& macros);

// Why a file could not be opened, and what to do.
std::string open_failure(const std::string& path, int error);

// The keyword a token kind stands for ("from"), or an empty string.
std::string keyword_text(Parser::symbol_kind_type kind);

}  // namespace ipsecctl::parser::hints
