#include "parser/parse_driver.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "parser/syntax_hints.h"

namespace ipsecctl::parser {

namespace {

std::string canonical_path(const std::string& path) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) != nullptr) return resolved;
  return {};
}

}  // namespace

ParseDriver::ParseDriver(Semantics& semantics, Diagnostics& diagnostics, MacroTable& macros,
                         ParseOptions options)
    : semantics_(semantics),
      diagnostics_(diagnostics),
      macros_(macros),
      options_(options),
      lexer_(diagnostics, macros, options_.quick_scanning, options_.read_block_size) {}

Lexer::FilePtr ParseDriver::open_file(const std::string& path, bool top_level) {
  if (top_level && path == "-") return Lexer::FilePtr(stdin);
  Lexer::FilePtr file(std::fopen(path.c_str(), "re"));
  if (!file) {
    const int error = errno;
    diagnostics_.failure("pushfile: " + path + ": " + std::strerror(error),
                      hints::open_failure(path, error));
    return nullptr;
  }
  struct stat st {};
  if (::fstat(::fileno(file.get()), &st) != 0) {
    diagnostics_.failure("cannot stat " + path + ": " + std::strerror(errno));
    return nullptr;
  }
  if (S_ISDIR(st.st_mode)) {
    diagnostics_.failure("pushfile: " + path + ": " + std::strerror(EISDIR));
    return nullptr;
  }
  if (top_level && options_.check_file_secrecy) {
    // The file may hold keys: refuse it unless only its owner can change it.
    if (st.st_uid != 0 && st.st_uid != ::getuid()) {
      diagnostics_.failure(path + ": owner not root or current user",
                        "the file may hold keys: make root (or you) its owner: chown root " +
                            path);
      return nullptr;
    }
    if ((st.st_mode & (S_IWGRP | S_IXGRP | S_IRWXO)) != 0) {
      diagnostics_.failure(path + ": group writable or world read/writable",
                        "the file may hold keys: let only its owner write it and nobody "
                        "else read it: chmod 600 " + path);
      return nullptr;
    }
  }
  return file;
}

bool ParseDriver::parse(const std::string& path) {
  Lexer::FilePtr stream = open_file(path, true);
  if (!stream) return false;
  if (options_.first_byte != 0 &&
      ::lseek(::fileno(stream.get()), static_cast<off_t>(options_.first_byte), SEEK_SET) < 0) {
    diagnostics_.failure("cannot seek in " + path + ": " + std::strerror(errno));
    return false;
  }
  lexer_.push_file(std::move(stream), path == "-" ? "stdin" : path,
                   path == "-" ? std::string() : canonical_path(path), std::nullopt,
                   options_.byte_count);
  run();
  return true;
}

void ParseDriver::parse_text(const std::string& display_name, std::string text) {
  memory_text_ = std::move(text);
  // fmemopen does not like empty buffers; an empty file is just a newline.
  if (memory_text_.empty()) memory_text_.push_back('\n');
  Lexer::FilePtr stream(::fmemopen(memory_text_.data(), memory_text_.size(), "r"));
  lexer_.push_file(std::move(stream), display_name, {}, std::nullopt);
  run();
}

void ParseDriver::run() {
  Parser parser(*this);
  try {
    parser.parse();
  } catch (...) {
    lexer_.close_all();
    throw;
  }
  lexer_.close_all();
  // On Debian /etc/ipsec.conf belongs to strongSwan; say so once.
  if (strongswan_format_)
    diagnostics_.note(
        "this file looks like strongSwan's ipsec.conf (config setup, conn sections), not "
        "OpenBSD's ipsec.conf(5) that ipsecctl reads; ipsecctl's own file is "
        "/etc/ipsecctl/ipsec.conf (see ipsecctl.conf(5))");
  if (iked_format_)
    diagnostics_.note(
        "this file looks like OpenBSD's iked.conf(5) (ikev2 policies), not ipsec.conf(5); "
        "read it with ipsecctl --iked -f FILE");
  if (options_.report_unused_macros)
    for (const auto& name : macros_.unused())
      diagnostics_.plain("warning: macro '" + name + "' not used");
}

bool ParseDriver::include_file(const std::string& path, const SourceSpan& where) {
  const std::string canonical = canonical_path(path);
  // OpenBSD recurses until it runs out of descriptors; stop loops at once.
  if (lexer_.is_open(canonical)) {
    diagnostics_.failure("pushfile: " + path + ": include loop",
                      "a file includes itself, directly or through other files");
    return false;
  }
  if (lexer_.depth() > options_.max_include_depth) {
    diagnostics_.failure("pushfile: " + path + ": includes nested too deeply");
    return false;
  }
  Lexer::FilePtr stream = open_file(path, false);
  if (!stream) return false;
  lexer_.push_file(std::move(stream), path, canonical, where);
  lexer_.expect_include_newline();
  return true;
}

bool ParseDriver::define_macro(const std::string& name, const std::string& value) {
  for (std::size_t i = 1; i < name.size(); ++i) {
    const char c = name[i];
    if (c == ' ' || (c >= '\t' && c <= '\r')) {
      diagnostics_.error("macro name cannot contain whitespace");
      return false;
    }
  }
  macros_.define(name, value, false);
  return true;
}

void ParseDriver::statement_word(Parser::symbol_kind_type kind, const std::string* text) {
  using K = Parser::symbol_kind;
  // A new statement starts after a newline or a skipped line.
  if (!statement_.empty() && (statement_.back() == K::S_NEWLINE || statement_.back() == K::S_ERROR)) {
    statement_.clear();
    statement_first_word_.clear();
  }
  if (statement_.empty() && kind == K::S_STRING && text != nullptr) statement_first_word_ = *text;
  if (statement_.size() < 256) statement_.push_back(kind);
}

void ParseDriver::syntax_error(Parser::symbol_kind_type lookahead,
                               const std::string& lookahead_text, const SourceSpan& where,
                               const std::vector<Parser::symbol_kind_type>& expected) {
  diagnostics_.set_focus(where);
  const std::string& first = statement_first_word_;
  const bool strongswan = first == "conn" || first == "config" || first == "ca";
  if (strongswan) strongswan_format_ = true;
  // iked.conf's policies start with `ikev2`, a word ipsec.conf does not have.
  const bool iked = first == "ikev2";
  if (iked) iked_format_ = true;
  std::string hint;
  if (diagnostics_.style() == DiagnosticStyle::Caret) {
    if (iked)
      hint = "'" + first + "' is a statement of OpenBSD's iked.conf(5), a different language; "
             "read such a file with ipsecctl --iked";
    else if (strongswan)
      hint = "'" + first + "' starts a section of strongSwan's ipsec.conf, a different format; "
             "ipsecctl reads OpenBSD's ipsec.conf(5) rules (flow, ike, esp, ...)";
    else
      hint = hints::for_syntax_error(lookahead, lookahead_text, statement_first_word_, statement_,
                                     expected, macros_);
  }
  diagnostics_.error("syntax error", hint);
}

}  // namespace ipsecctl::parser
