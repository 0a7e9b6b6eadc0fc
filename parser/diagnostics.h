// Error and warning reporting with OpenBSD ipsecctl's exact formats.
//
//   <file>: <line>: <message>     parse/validation errors (counted) and
//                                 warnings (not counted)
//   ipsecctl: <message>           messages about the program itself
//
// stderr is unbuffered and stdout is buffered (see cli/), so a merged pipe
// shows every diagnostic before the printed rules, as OpenBSD's does.
#pragma once

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace ipsecctl {

// Where a rule came from. Files are interned so that a rule costs 8 bytes
// to remember its origin, which matters with 100k rules.
struct SourceLocation {
  std::uint32_t file = 0;
  std::uint32_t line = 0;
};

// A condition after which OpenBSD's ipsecctl exits at once (err/errx).
class FatalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Diagnostics {
 public:
  explicit Diagnostics(std::FILE* sink = stderr) : sink_(sink) { files_.push_back("-"); }

  // The parser keeps this current: the file being read and the line of the
  // token it handed out last (what OpenBSD calls yylval.lineno).
  void set_position(std::uint32_t file, std::uint32_t line) {
    current_ = {file, line};
  }
  void set_line(std::uint32_t line) { current_.line = line; }
  SourceLocation position() const { return current_; }

  std::uint32_t intern_file(const std::string& name);
  const std::string& file_name(std::uint32_t file) const { return files_.at(file); }
  std::string describe(SourceLocation where) const;  // "file:line"

  void error(const std::string& message);    // counted
  void error_at(SourceLocation where, const std::string& message);
  void warning(const std::string& message);  // same format, not counted
  void note(const std::string& message);     // "ipsecctl: message"
  [[noreturn]] static void fatal(const std::string& message) { throw FatalError(message); }

  int error_count() const { return errors_; }
  void count_error() { ++errors_; }

 private:
  std::FILE* sink_;
  std::vector<std::string> files_;
  SourceLocation current_;
  int errors_ = 0;
};

}  // namespace ipsecctl
