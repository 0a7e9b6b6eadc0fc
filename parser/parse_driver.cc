#include "parser/parse_driver.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

// Implemented in the generated scanner.
void* ipsecctl_scanner_create(ipsecctl::parser::ScanState* state);
void ipsecctl_scanner_destroy(void* scanner);
void ipsecctl_scanner_push(void* scanner, std::FILE* file);
void ipsecctl_scanner_push_text(void* scanner, char* base, std::size_t size);
ipsecctl::parser::Parser::symbol_type ipsecctl_scanner_next(void* scanner,
                                                            ipsecctl::parser::ScanState& state);

namespace ipsecctl::parser {

ParseDriver::ParseDriver(Semantics& semantics, Diagnostics& diagnostics, MacroTable& macros,
                         ParseOptions options)
    : semantics_(semantics), diagnostics_(diagnostics), macros_(macros), options_(options) {
  state_.driver = this;
  scanner_ = ipsecctl_scanner_create(&state_);
}

ParseDriver::~ParseDriver() { ipsecctl_scanner_destroy(scanner_); }

std::unique_ptr<std::FILE, ParseDriver::FileCloser> ParseDriver::open_file(
    const std::string& path, bool top_level) {
  if (top_level && path == "-") return std::unique_ptr<std::FILE, FileCloser>(stdin);
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "re"));
  if (!file) {
    diagnostics_.note("pushfile: " + path + ": " + std::strerror(errno));
    return nullptr;
  }
  struct stat st {};
  if (::fstat(::fileno(file.get()), &st) != 0) {
    diagnostics_.note("cannot stat " + path + ": " + std::strerror(errno));
    return nullptr;
  }
  if (S_ISDIR(st.st_mode)) {
    diagnostics_.note("pushfile: " + path + ": " + std::strerror(EISDIR));
    return nullptr;
  }
  if (top_level && options_.check_file_secrecy) {
    // The file may hold keys: refuse it unless only its owner can change it.
    if (st.st_uid != 0 && st.st_uid != ::getuid()) {
      diagnostics_.note(path + ": owner not root or current user");
      return nullptr;
    }
    if ((st.st_mode & (S_IWGRP | S_IXGRP | S_IRWXO)) != 0) {
      diagnostics_.note(path + ": group writable or world read/writable");
      return nullptr;
    }
  }
  return file;
}

bool ParseDriver::parse(const std::string& path) {
  auto top = std::make_unique<OpenFile>();
  top->name = path == "-" ? "stdin" : path;
  top->stream = open_file(path, true);
  if (!top->stream) return false;
  if (path != "-") {
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) != nullptr) top->canonical = resolved;
  }
  run(std::move(top));
  return true;
}

void ParseDriver::parse_text(const std::string& display_name, std::string text) {
  auto top = std::make_unique<OpenFile>();
  top->name = display_name;
  // fmemopen does not like empty buffers; an empty file is just a newline.
  if (text.empty()) text = "\n";
  top->stream.reset(::fmemopen(text.data(), text.size(), "r"));
  run(std::move(top));
}

void ParseDriver::push_file(std::unique_ptr<OpenFile> file) {
  file->id = diagnostics_.intern_file(file->name);
  ipsecctl_scanner_push(scanner_, file->stream.get());
  files_.push_back(std::move(file));
  diagnostics_.set_position(files_.back()->id, state_.line);
}

void ParseDriver::run(std::unique_ptr<OpenFile> top) {
  state_.line = 1;
  state_.token_line = 1;
  push_file(std::move(top));
  Parser parser(*this);
  parser.parse();
  files_.clear();
  pending_.clear();
  if (options_.report_unused_macros)
    for (const auto& name : macros_.unused())
      std::fprintf(stderr, "warning: macro '%s' not used\n", name.c_str());
}

Parser::symbol_type ParseDriver::next_token() {
  if (!pending_.empty()) {
    auto [line, token] = std::move(pending_.front());
    pending_.pop_front();
    diagnostics_.set_line(line);
    return std::move(token);
  }
  Parser::symbol_type token = ipsecctl_scanner_next(scanner_, state_);
  diagnostics_.set_position(files_.back()->id, state_.token_line);
  return token;
}

void ParseDriver::scanner_error(const ScanState& state, const std::string& message) {
  if (!files_.empty()) diagnostics_.set_position(files_.back()->id, state.token_line);
  diagnostics_.error(message);
}

bool ParseDriver::expand_macro(ScanState& state, const std::string& name) {
  auto value = macros_.use(name);
  if (!value) return false;
  // Read the value with a scanner of its own, so that its tokens never
  // expand further. A trailing blank ends a number the way the blank after
  // `$name` in the file would.
  ScanState sub;
  sub.driver = this;
  sub.macro_text = true;
  sub.line = state.token_line;
  sub.token_line = state.token_line;
  std::string text = *value + " ";
  text.append(2, '\0');  // Flex scans a buffer in place up to two NULs
  void* scanner = ipsecctl_scanner_create(&sub);
  ipsecctl_scanner_push_text(scanner, text.data(), text.size() - 2);
  for (;;) {
    Parser::symbol_type token = ipsecctl_scanner_next(scanner, sub);
    if (token.kind() == Parser::symbol_kind::S_YYEOF) break;
    pending_.emplace_back(state.token_line, std::move(token));
  }
  ipsecctl_scanner_destroy(scanner);
  return true;
}

Parser::symbol_type ParseDriver::pop_pending() {
  Parser::symbol_type token = std::move(pending_.front().second);
  pending_.pop_front();
  return token;
}

bool ParseDriver::leave_file(ScanState& state) {
  if (state.macro_text || files_.size() <= 1) return false;
  state.line = files_.back()->resume_line;
  files_.pop_back();
  diagnostics_.set_position(files_.back()->id, state.line);
  return true;
}

bool ParseDriver::include_file(const std::string& path) {
  auto file = std::make_unique<OpenFile>();
  file->name = path;
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) != nullptr) file->canonical = resolved;
  // OpenBSD recurses until it runs out of descriptors; stop loops at once.
  for (const auto& open : files_) {
    if (!file->canonical.empty() && open->canonical == file->canonical) {
      diagnostics_.note("pushfile: " + path + ": include loop");
      return false;
    }
  }
  if (static_cast<int>(files_.size()) > options_.max_include_depth) {
    diagnostics_.note("pushfile: " + path + ": includes nested too deeply");
    return false;
  }
  file->stream = open_file(path, false);
  if (!file->stream) return false;
  std::uint32_t include_line = diagnostics_.position().line;
  file->resume_line = state_.line;
  state_.line = 1;
  push_file(std::move(file));
  // The include statement still needs its newline: hand the grammar one
  // now, before the first token of the new file (OpenBSD pushes one back).
  pending_.emplace_front(include_line, Parser::make_NEWLINE());
  return true;
}

bool ParseDriver::define_macro(const std::string& name, const std::string& value) {
  for (std::size_t i = 1; i < name.size(); ++i) {
    if (std::isspace(static_cast<unsigned char>(name[i]))) {
      diagnostics_.error("macro name cannot contain whitespace");
      return false;
    }
  }
  macros_.define(name, value, false);
  return true;
}

}  // namespace ipsecctl::parser
