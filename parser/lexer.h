// The scanner of ipsec.conf(5), character for character as OpenBSD's
// ipsecctl reads it.
//
// OpenBSD's lexer is hand-written and its quirks are part of the language:
// a macro's value is read from a buffer that sits in front of the input, so
// a word can run from the value into the text after `$name`; digits that
// turn out not to be a number are pushed back (into a buffer of 127
// characters) and read again as a word; a backslash before a newline joins
// lines everywhere except inside quotes, where the string itself handles
// it; after an error the rest of the line is dropped, following
// continuations. Which line an error names depends on exactly when the
// line counter moves. Reproducing the same steps is the only way to give
// the same answers on every input, so this file follows them, while also
// recording where each token lies (file, physical line, columns) for
// carets and for the plan's origins.
//
// Input is read in blocks of 64 KiB into a buffer of the lexer's own. The
// characters of a word, a number, a comment or a run of blanks that lie in
// that buffer, with nothing in front of them (no macro value, nothing
// pushed back) and no backslash among them, are taken in one step: the
// same characters the one-at-a-time steps would take, with the same
// positions, without pushing back a number that turns out to be a word
// (it is simply read again from the buffer). Anything else takes the
// steps above, so every quirk stays as it was. A word, a quoted string and
// the rest of a bad line are all scanned in linear time.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/diagnostics.h"
#include "common/source_location.h"
#include "common/unique_file.h"
#include "parser/grammar.hh"
#include "parser/macro_table.h"

namespace ipsecctl::parser {

class Lexer {
 public:
  using FilePtr = UniqueFile;

  // OpenBSD's lexer works in an 8096-byte buffer.
  static constexpr std::size_t kBufferSize = 8096;

  // Large blocks: a configuration of 100k rules is read in a hundred calls.
  static constexpr std::size_t kReadBlockSize = 1 << 16;

  Lexer(Diagnostics& diagnostics, MacroTable& macros, bool quick_scanning = true,
        std::size_t block_size = kReadBlockSize);

  // Starts reading `stream` on top of what is being read. `display_name`
  // is what messages call it ("stdin" for standard input).
  // At most `length` bytes of `stream` are read: a piece of a file read in
  // pieces (compiler/syntax_check) ends where the next one begins.
  static constexpr std::uint64_t kWholeFile = ~std::uint64_t{0};
  void push_file(FilePtr stream, const std::string& display_name, const std::string& canonical,
                 std::optional<SourceSpan> included_from, std::uint64_t length = kWholeFile);
  // After an include statement: the statement still needs its newline,
  // which comes before the first token of the new file (OpenBSD pushes one
  // back). Unlike OpenBSD, it does not count as the new file's first line.
  void expect_include_newline() { include_newline_ = true; }

  // The next token (yylex).
  Parser::symbol_type next();
  // When the last token before the end was a newline read from the
  // top-level file itself (not from a macro's value, nor inside an
  // included file): how many bytes of that file had been read then.
  // Otherwise kNoStatementEnd. A piece of a file that ends exactly there
  // ends between two statements, where the grammar and this scanner hold
  // no state but the macros.
  static constexpr std::uint64_t kNoStatementEnd = ~std::uint64_t{0};
  std::uint64_t last_statement_end() const { return statement_end_; }

  std::size_t depth() const { return files_.size(); }
  bool is_open(const std::string& canonical) const;
  // The line OpenBSD's messages name now (yylval.lineno) and its file.
  std::uint32_t report_line() const { return report_line_; }
  std::uint32_t file_id() const;
  // Where the last token lies.
  const SourceSpan& token_span() const { return token_span_; }
  // Ends reading: hands the partial last lines to Diagnostics.
  void close_all();

 private:
  struct Position {
    std::uint32_t file = 0;
    std::uint32_t line = 0;
    std::uint32_t column = 0;
  };
  struct OpenFile {
    FilePtr stream;
    std::uint32_t id = 0;
    std::uint32_t lineno = 1;      // OpenBSD's file->lineno
    std::uint32_t phys_line = 1;   // line of the next byte to read
    std::uint32_t column = 0;      // column of the last byte read
    std::string line_text;         // the physical line read so far (for carets)
    std::string canonical;
    std::unique_ptr<char[]> data;  // what was read and not yet taken: [at, end)
    std::size_t at = 0;
    std::size_t end = 0;
    std::uint64_t read_before = 0;   // bytes of the blocks before `data`
    std::uint64_t left = kWholeFile; // bytes this file may still give
    bool at_eof = false;           // sticky, as stdio's end of file is
  };
  static constexpr int kMaxPushback = 128;

  Parser::symbol_type scan();
  int read_byte(OpenFile& f);
  bool refill(OpenFile& f);
  // The bytes lgetc() would return next, as far as they are buffered, when
  // they come straight from the file; empty otherwise.
  std::string_view buffered() const;
  // Takes the first `n` bytes of buffered(), none of them a newline.
  void take(std::size_t n);
  void complete_line(OpenFile& f);
  int lgetc(int quotec);
  void lungetc(int c);
  bool popfile();
  Parser::symbol_type findeol();
  Parser::symbol_type scan_quoted(int quotec);
  void error(const std::string& message, std::string hint = {});
  void sync_position();
  static SourceSpan span_of(const Position& first, const Position& last);
  Parser::symbol_type char_token(int c, const SourceSpan& span);
  Parser::symbol_type number_token();

  OpenFile& current() { return *files_.back(); }

  Diagnostics& diag_;
  MacroTable& macros_;
  std::vector<std::unique_ptr<OpenFile>> files_;
  bool keep_lines_ = false;
  bool quick_ = true;  // see the file comment
  std::size_t block_size_;
  bool include_newline_ = false;

  // OpenBSD's lexer state.
  std::string macro_value_;            // what parsebuf points into
  bool in_macro_ = false;              // parsebuf != NULL
  long parse_index_ = 0;               // parseindex
  std::array<char, kMaxPushback> pushback_{};
  std::array<Position, kMaxPushback> pushback_pos_{};
  int pushback_index_ = 0;
  std::uint32_t report_line_ = 1;      // yylval.lineno

  Position pos_;          // where the character lgetc returned last lies
  Position end_pos_;      // ... and ends (a macro's characters span `$name`)
  Position macro_pos_;    // the `$name` a macro's characters stand for
  Position macro_end_;
  SourceSpan token_span_;
  std::uint64_t statement_end_ = kNoStatementEnd;
  std::string buf_;
  std::vector<Position> buf_pos_;
};

}  // namespace ipsecctl::parser
