// Runs the scanner and the grammar over a file and the files it includes.
//
// The driver owns the scanner (with its stack of open files) and the
// macro table. It is also where the grammar turns to for what is not
// grammar: opening included files, defining macros, and explaining a
// syntax error (the hint shown under a caret).
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "common/diagnostics.h"
#include "parser/grammar.hh"
#include "parser/lexer.h"
#include "parser/macro_table.h"
#include "parser/semantics.h"

namespace ipsecctl::parser {

struct ParseOptions {
  bool check_file_secrecy = true;  // owner and mode of the top-level file
  bool report_unused_macros = false;
  std::size_t max_include_depth = 32;
  // Off: the lexer reads every character the step-by-step way (for the
  // test that holds both ways to the same tokens, spans and messages).
  bool quick_scanning = true;
  // How much the lexer reads at a time (tests make it tiny, so that the
  // end of a block falls everywhere).
  std::size_t read_block_size = Lexer::kReadBlockSize;
  // Only these bytes of the top-level file (a regular file): one piece of
  // a file read in pieces (compiler/syntax_check).
  std::uint64_t first_byte = 0;
  std::uint64_t byte_count = Lexer::kWholeFile;
};

class ParseDriver {
 public:
  ParseDriver(Semantics& semantics, Diagnostics& diagnostics, MacroTable& macros,
              ParseOptions options = {});
  ParseDriver(const ParseDriver&) = delete;
  ParseDriver& operator=(const ParseDriver&) = delete;

  // Parses `path` ("-" for standard input). Returns false when the file
  // could not be read at all; parse errors are counted in Diagnostics.
  // A condition OpenBSD treats as fatal throws FatalError.
  bool parse(const std::string& path);

  // Parses text held in memory under the given display name (tests, fuzzing).
  void parse_text(const std::string& display_name, std::string text);

  // --- used by the grammar ---
  Semantics& sema() { return semantics_; }
  Diagnostics& diag() { return diagnostics_; }
  Parser::symbol_type next_token() { return lexer_.next(); }
  // The next error is about these characters (a caret goes under them).
  void focus(const SourceSpan& span) { diagnostics_.set_focus(span); }
  bool include_file(const std::string& path, const SourceSpan& where);
  bool define_macro(const std::string& name, const std::string& value);
  // "syntax error", with a hint from what the grammar expected.
  void syntax_error(Parser::symbol_kind_type lookahead, const std::string& lookahead_text,
                    const SourceSpan& where,
                    const std::vector<Parser::symbol_kind_type>& expected);
  // The words of the statement being read, for hints.
  void statement_word(Parser::symbol_kind_type kind, const std::string* text);
  void statement_end() { statement_.clear(); }
  const MacroTable& macros() const { return macros_; }
  // See Lexer::last_statement_end().
  std::uint64_t last_statement_end() const { return lexer_.last_statement_end(); }

 private:
  Lexer::FilePtr open_file(const std::string& path, bool top_level);
  void run();

  Semantics& semantics_;
  Diagnostics& diagnostics_;
  MacroTable& macros_;
  ParseOptions options_;
  Lexer lexer_;
  std::vector<Parser::symbol_kind_type> statement_;
  std::string statement_first_word_;  // when the statement starts with a word
  bool strongswan_format_ = false;     // a `conn` or `config setup` section seen
  bool iked_format_ = false;           // an `ikev2` statement seen
  std::string memory_text_;  // backs parse_text()
};

}  // namespace ipsecctl::parser
