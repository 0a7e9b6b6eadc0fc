// Errors and warnings as records, rendered in one place.
//
// Every message about the configuration or the run is a Diagnostic: its
// OpenBSD text, the file and line OpenBSD names, the exact span it is
// about, and a hint of our own. Collecting records instead of printing
// from a cursor lets the same run show:
//   - OpenBSD's exact text ("<file>: <line>: <message>", "ipsecctl: ..."),
//     printed at once, which is what scripts and the conformance suites
//     read; or
//   - the same first line followed by the source line, a caret under the
//     offending word, the include chain and a hint (`--color`, or when
//     standard error is a terminal). The source line is only known once
//     the scanner has read it, so these are printed when the line is
//     complete or when the run flushes.
//
// stderr is unbuffered and stdout is buffered (see cli/), so a merged pipe
// shows every diagnostic before the printed rules, as OpenBSD's does.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/source_location.h"

namespace ipsecctl {

// A condition after which OpenBSD's ipsecctl exits at once (err/errx).
class FatalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Severity : std::uint8_t {
  Error,    // "<file>: <line>: msg", counted
  Warning,  // same format, not counted
  Note,     // "ipsecctl: msg"
  Failure,  // "ipsecctl: msg" too, but it refuses the run (an error in JSON)
  Plain,    // printed as is ("no IP address found for x")
};

struct Diagnostic {
  Severity severity = Severity::Error;
  std::string message;
  SourceLocation reported;  // Error/Warning: the file and line of the prefix
  SourceSpan span;          // the characters it is about, when known
  std::string hint;         // shown with carets only
};

enum class DiagnosticStyle : std::uint8_t {
  OpenBsd,  // OpenBSD's text, nothing else
  Caret,    // plus source line, caret, include chain and hint
};

class Diagnostics {
 public:
  // A null sink counts diagnostics and shows none.
  explicit Diagnostics(std::FILE* sink = stderr);

  void set_style(DiagnosticStyle style, bool color);
  DiagnosticStyle style() const { return style_; }

  // --- files ---
  // A file being read; `included_from` is the include statement that
  // opened it. Each opening gets its own number so that the chain of
  // includes stays known after the file is closed.
  std::uint32_t open_file(const std::string& name,
                          std::optional<SourceSpan> included_from = std::nullopt);
  // A name for messages that are not about a file being read (backends).
  std::uint32_t intern_file(const std::string& name);
  const std::string& file_name(std::uint32_t file) const { return files_.at(file).name; }
  std::string describe(SourceLocation where) const;  // "file:line"
  // The include statement that opened `file`; nullopt for the top file.
  std::optional<SourceLocation> included_from(std::uint32_t file) const {
    const auto& from = files_.at(file).included_from;
    if (!from) return std::nullopt;
    return SourceLocation{from->file, from->line};
  }

  // --- where "here" is ---
  // The file and line OpenBSD would name for an error now: the scanner
  // keeps it on the token it read last (yylval.lineno).
  void set_position(std::uint32_t file, std::uint32_t line) { current_ = {file, line}; }
  void set_line(std::uint32_t line) { current_.line = line; }
  SourceLocation position() const { return current_; }
  // The characters the next error is about (a caret goes under them).
  void set_focus(const SourceSpan& span) { focus_ = span; }
  const SourceSpan& focus() const { return focus_; }

  // --- reporting ---
  void error(const std::string& message, std::string hint = {});
  void error_at(SourceLocation where, const std::string& message, std::string hint = {});
  void warning(const std::string& message, std::string hint = {});
  void warning_at(SourceLocation where, const std::string& message, std::string hint = {});
  void note(const std::string& message, std::string hint = {});
  // A note that refuses what was asked (a file that cannot be read or is
  // readable by others, "ipsec rules not loaded"): OpenBSD prints it as a
  // note, machine output calls it an error.
  void failure(const std::string& message, std::string hint = {});
  void plain(const std::string& line);
  // A hint for the most recent record (for callers that learn more later).
  void add_hint(const std::string& hint);
  [[noreturn]] static void fatal(const std::string& message) { throw FatalError(message); }
  // OpenBSD's err() ends its message with strerror(errno), whatever call
  // last left errno set. Where the reference's own calls set it, they say
  // so here, so that such a message ends as the reference's does: a
  // strtonum() that fails leaves EINVAL or ERANGE (one that succeeds gives
  // errno back as it was), and looking up a host leaves ENOTTY (it first
  // asks the kernel whether the name is an interface group, an ioctl that
  // fails so). Before any of them it is 0.
  void set_reference_errno(int error) { reference_errno_ = error; }
  [[noreturn]] void fatal_with_errno(const std::string& message) const;

  // An error the grammar recovered from without a message of its own
  // (OpenBSD's `grammar error '\n' { file->errors++; }`).
  void count_silent_error() { ++errors_; }
  int error_count() const { return errors_; }
  const std::vector<Diagnostic>& records() const { return records_; }

  // --- source text, for carets ---
  bool wants_source_lines() const { return style_ == DiagnosticStyle::Caret; }
  // The scanner hands over each physical line once it has read all of it.
  void source_line(std::uint32_t file, std::uint32_t line, std::string_view text);
  // Prints what is still waiting for its source line (end of the run).
  void flush();

 private:
  struct File {
    std::string name;
    std::optional<SourceSpan> included_from;
    // The last lines read, so that a caret can point a few lines back.
    std::deque<std::pair<std::uint32_t, std::string>> recent;
  };

  void record(Diagnostic d);
  void render(const Diagnostic& d) const;
  void render_caret(const Diagnostic& d, const std::string* text) const;
  const std::string* find_line(std::uint32_t file, std::uint32_t line) const;
  std::string first_line(const Diagnostic& d) const;

  std::FILE* sink_;
  DiagnosticStyle style_ = DiagnosticStyle::OpenBsd;
  bool color_ = false;
  std::vector<File> files_;
  SourceLocation current_;
  SourceSpan focus_;
  std::vector<Diagnostic> records_;
  std::size_t rendered_ = 0;  // records_[0, rendered_) are printed
  int errors_ = 0;
  int reference_errno_ = 0;
};

}  // namespace ipsecctl
