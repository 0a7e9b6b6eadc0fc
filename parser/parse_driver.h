// Runs the scanner and the grammar over a file and the files it includes.
//
// The driver owns the stack of open files, the macro table and a small
// queue of tokens that came out of a macro's value. It keeps
// Diagnostics' position on the token handed to the grammar last, which is
// the line OpenBSD's messages name.
#pragma once

#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "parser/diagnostics.h"
#include "parser/grammar.hh"
#include "parser/macro_table.h"
#include "parser/scan_state.h"
#include "parser/semantics.h"

namespace ipsecctl::parser {

struct ParseOptions {
  bool check_file_secrecy = true;  // owner and mode of the top-level file
  bool report_unused_macros = false;
  int max_include_depth = 32;
};

class ParseDriver {
 public:
  ParseDriver(Semantics& semantics, Diagnostics& diagnostics, MacroTable& macros,
              ParseOptions options = {});
  ~ParseDriver();
  ParseDriver(const ParseDriver&) = delete;
  ParseDriver& operator=(const ParseDriver&) = delete;

  // Parses `path` ("-" for standard input). Returns false when the file
  // could not be read at all; parse errors are counted in Diagnostics.
  bool parse(const std::string& path);

  // Parses text held in memory under the given display name (tests).
  void parse_text(const std::string& display_name, std::string text);

  // --- used by the grammar ---
  Semantics& sema() { return semantics_; }
  Diagnostics& diag() { return diagnostics_; }
  Parser::symbol_type next_token();
  bool include_file(const std::string& path);
  bool define_macro(const std::string& name, const std::string& value);

  // --- used by the scanner ---
  void scanner_error(const ScanState& state, const std::string& message);
  // Expands `$name`; false when the macro is not defined.
  bool expand_macro(ScanState& state, const std::string& name);
  bool has_pending() const { return !pending_.empty(); }
  Parser::symbol_type pop_pending();
  // At the end of an included file: returns to the includer. False at the
  // end of the top-level file.
  bool leave_file(ScanState& state);
  bool inside_include() const { return files_.size() > 1; }

 private:
  struct FileCloser {
    void operator()(std::FILE* f) const {
      if (f != nullptr && f != stdin) std::fclose(f);
    }
  };
  struct OpenFile {
    std::string name;
    std::uint32_t id = 0;
    std::unique_ptr<std::FILE, FileCloser> stream;  // read by Flex block by block
    std::uint32_t resume_line = 0;  // includer's line to return to
    std::string canonical;          // for include-loop detection
  };

  std::unique_ptr<std::FILE, FileCloser> open_file(const std::string& path, bool top_level);
  void run(std::unique_ptr<OpenFile> top);
  void push_file(std::unique_ptr<OpenFile> file);

  Semantics& semantics_;
  Diagnostics& diagnostics_;
  MacroTable& macros_;
  ParseOptions options_;
  void* scanner_ = nullptr;  // yyscan_t
  ScanState state_;
  std::vector<std::unique_ptr<OpenFile>> files_;
  std::deque<std::pair<std::uint32_t, Parser::symbol_type>> pending_;
};

}  // namespace ipsecctl::parser
