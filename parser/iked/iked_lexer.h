// The scanner of iked.conf(5), character for character as iked reads it.
//
// iked's lexer differs from ipsecctl's in ways that show in its answers:
// a macro's value is pushed back onto the file between two marker bytes
// (a `$` inside a value is not expanded again), each file keeps its own
// push-back buffer, a backslash joins lines everywhere (and before any
// other character simply vanishes), a file's end first reads as one
// newline, and an included file starts at line 0 because the include
// statement's newline is pushed back onto it. The line iked names in a
// message is the one of the last token read (its yylval.lineno); the
// scanner keeps it in report_line().
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/diagnostics.h"
#include "common/unique_file.h"
#include "parser/iked/iked_grammar.hh"
#include "parser/iked/iked_semantics.h"

namespace ipsecctl::iked {

class Lexer {
 public:
  // iked's token buffer.
  static constexpr std::size_t kBufferSize = 8096;

  Lexer(Diagnostics& diagnostics, Reporter& reporter);

  // pushfile(): opens `name` ("-" as the first file: standard input) on
  // top of what is being read. `secret` files must be root's or ours and
  // unreadable to others, as iked requires of its configuration. False
  // after iked's warning.
  bool push_file(const std::string& name, bool secret);
  // Reads an open stream (text in memory: tests and the fuzzer) as the
  // top file.
  void push_stream(UniqueFile stream, const std::string& name);
  // The include statement's newline, read first from the file it opened.
  void unget_newline() { lungetc('\n'); }

  Parser::symbol_type next();
  // The rest of the line, up to (not including) its newline: what iked
  // skips after an IKEv1 or manual-keying rule of ipsec.conf.
  void skip_line();

  // Macros: `name=value` in the file, -D on the command line (those win).
  void define(const std::string& name, const std::string& value, bool from_command_line);

  std::uint32_t report_line() const { return report_line_; }
  std::uint32_t file_id() const;
  void count_error();
  // The errors of the top file and of every included file already closed.
  int errors() const { return top_errors_; }
  // Closes what is still open (the top file), adding up its errors.
  void finish();

 private:
  // Files are read in blocks of 64 KiB into a buffer of our own: getc()
  // per character, with its lock, was a tenth of reading 100k policies.
  static constexpr std::size_t kBlockSize = 1 << 16;

  struct OpenFile {
    UniqueFile stream;
    std::unique_ptr<unsigned char[]> block;
    std::size_t at = 0;
    std::size_t end = 0;
    bool at_eof = false;
    std::string name;
    std::uint32_t id = 0;
    std::vector<int> unget;
    bool eof_reached = false;
    std::uint32_t lineno = 1;
    int errors = 0;
  };
  struct Macro {
    std::string value;
    bool persist = false;
  };

  // The next byte, from what was pushed back or from the file.
  int igetc() {
    OpenFile& f = *files_.back();
    for (;;) {
      int c;
      if (!f.unget.empty()) {
        c = f.unget.back();
        f.unget.pop_back();
      } else if (f.at < f.end) {
        c = f.block[f.at++];
      } else {
        c = refill(f);
      }
      // Marker bytes around a macro's value (see lexer.cc).
      if (c == 1)
        expanding_ = true;
      else if (c == 2)
        expanding_ = false;
      else
        return c;
    }
  }
  int refill(OpenFile& f);
  int lgetc(int quotec);
  void lungetc(int c);
  bool popfile();
  Parser::symbol_type findeol();
  Parser::symbol_type word_token(const std::string& word);
  OpenFile& current() { return *files_.back(); }

  Diagnostics& diag_;
  Reporter& reporter_;
  std::vector<std::unique_ptr<OpenFile>> files_;
  std::map<std::string, Macro> macros_;
  bool expanding_ = false;
  std::uint32_t report_line_ = 1;
  int top_errors_ = 0;
};

}  // namespace ipsecctl::iked
