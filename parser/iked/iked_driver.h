// Reads one iked.conf(5) (and what it includes) with the grammar, the
// scanner and the Semantics that turns statements into policies. It is
// also the Reporter the grammar and the Semantics print through, so that
// every message names the file and line iked would.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/diagnostics.h"
#include "parser/iked/iked_lexer.h"
#include "parser/iked/iked_semantics.h"
#include "parser/iked/iked_transforms.h"

namespace ipsecctl::iked {

// iked's limit for a pre-shared key (its auth_data buffer).
constexpr std::size_t kPskMax = 1024;

inline Host any_host() {
  Host h;
  h.kind = HostKind::Any;
  h.address.network = true;
  return h;
}

inline Host dynamic_host() {
  Host h;
  h.kind = HostKind::Dynamic;
  return h;
}

// How iked names a host in its messages: the interface's name, else the
// address (numerically, with the prefix length it was written with).
std::string display_name(const Host& host);

struct ParseResult {
  Settings settings;
  int errors = 0;
  // iked gave up at once (its fatal() or err()): the message, printed.
  std::optional<std::string> fatal;
  bool opened = true;  // false: the file could not be read at all
};

class Driver : public Reporter {
 public:
  Driver(Diagnostics& diagnostics, Semantics& semantics);

  // Reads `path` ("-": standard input). `defines` are -D name=value.
  ParseResult parse(const std::string& path,
                    const std::vector<std::pair<std::string, std::string>>& defines);
  // The same for text in memory, called `name` in messages.
  ParseResult parse_text(const std::string& name, const std::string& text);

  // --- for the grammar ---
  Parser::symbol_type next_token() { return lexer_.next(); }
  Semantics& semantics() { return semantics_; }
  Settings& settings() { return settings_; }
  bool include(const std::string& path);
  void skip_line() { lexer_.skip_line(); }
  void define(const std::string& name, const std::string& value) {
    lexer_.define(name, value, false);
  }
  void count_error() { lexer_.count_error(); }
  TransformSet& building() { return building_; }
  std::vector<TransformSetPtr>& mode() { return mode_; }
  Filters& filters() { return filters_; }
  NameTable encr_table() const { return encr_table_; }
  void set_encr_table(NameTable table) { encr_table_ = table; }
  // parse_xf() into `list`; false after "X not a valid transform".
  bool add_transform(NameTable table, const std::string& word,
                     std::vector<const TransformName*>& list);
  // iked's parsekey(): pairs of hex digits (a bad pair becomes 0xff after
  // its message); nullopt, silently, when the key is too long.
  std::optional<std::vector<std::uint8_t>> parse_hex_key(const std::string& hex);

  ParseResult run();

  // --- Reporter ---
  void error(const std::string& message) override;
  void warning(const std::string& message) override;
  void plain(const std::string& line) override;
  [[noreturn]] void fatal(const std::string& message) override;
  SourceLocation here() const override { return {lexer_.file_id(), lexer_.report_line()}; }

 private:
  Diagnostics& diag_;
  Semantics& semantics_;
  Lexer lexer_;
  Settings settings_;
  TransformSet building_;
  std::vector<TransformSetPtr> mode_;
  Filters filters_;
  NameTable encr_table_ = NameTable::IkeEncr;
  std::string memory_text_;
};

}  // namespace ipsecctl::iked
