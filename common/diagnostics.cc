#include "common/diagnostics.h"

#include <cstring>

#include <algorithm>

namespace ipsecctl {

namespace {

// How many read lines a file keeps for carets that point back a little
// (an error found at the end of a rule continued over several lines).
constexpr std::size_t kRecentLines = 64;

const char* const kBold = "\033[1m";
const char* const kGreen = "\033[1;32m";
const char* const kCyan = "\033[1;36m";
const char* const kReset = "\033[0m";

}  // namespace

Diagnostics::Diagnostics(std::FILE* sink) : sink_(sink) { files_.push_back(File{"-", {}, {}}); }

void Diagnostics::set_style(DiagnosticStyle style, bool color) {
  style_ = style;
  color_ = color && style == DiagnosticStyle::Caret;
}

std::uint32_t Diagnostics::open_file(const std::string& name,
                                     std::optional<SourceSpan> included_from) {
  files_.push_back(File{name, included_from, {}});
  return static_cast<std::uint32_t>(files_.size() - 1);
}

std::uint32_t Diagnostics::intern_file(const std::string& name) {
  for (std::uint32_t i = 0; i < files_.size(); ++i)
    if (files_[i].name == name && !files_[i].included_from) return i;
  return open_file(name);
}

std::string Diagnostics::describe(SourceLocation where) const {
  return file_name(where.file) + ":" + std::to_string(where.line);
}

void Diagnostics::error(const std::string& message, std::string hint) {
  error_at(current_, message, std::move(hint));
}

void Diagnostics::error_at(SourceLocation where, const std::string& message, std::string hint) {
  ++errors_;
  record(Diagnostic{Severity::Error, message, where, focus_, std::move(hint)});
}

void Diagnostics::warning(const std::string& message, std::string hint) {
  record(Diagnostic{Severity::Warning, message, current_, focus_, std::move(hint)});
}

void Diagnostics::warning_at(SourceLocation where, const std::string& message, std::string hint) {
  record(Diagnostic{Severity::Warning, message, where, {}, std::move(hint)});
}

void Diagnostics::fatal_with_errno(const std::string& message) const {
  fatal(message + ": " + std::strerror(reference_errno_));
}

void Diagnostics::note(const std::string& message, std::string hint) {
  record(Diagnostic{Severity::Note, message, {}, {}, std::move(hint)});
}

void Diagnostics::failure(const std::string& message, std::string hint) {
  record(Diagnostic{Severity::Failure, message, {}, {}, std::move(hint)});
}

void Diagnostics::plain(const std::string& line) {
  record(Diagnostic{Severity::Plain, line, {}, {}, {}});
}

void Diagnostics::add_hint(const std::string& hint) {
  if (records_.empty() || hint.empty()) return;
  // A record already printed in OpenBSD style needs no hint; one waiting
  // for its source line shows it.
  if (records_.back().hint.empty()) records_.back().hint = hint;
}

void Diagnostics::record(Diagnostic d) {
  records_.push_back(std::move(d));
  if (style_ == DiagnosticStyle::OpenBsd) {
    render(records_.back());
    rendered_ = records_.size();
    return;
  }
  // Caret style: print in order, each once its source line is known.
  while (rendered_ < records_.size()) {
    const Diagnostic& next = records_[rendered_];
    if (next.span.known() && find_line(next.span.file, next.span.line) == nullptr) break;
    render(next);
    ++rendered_;
  }
}

std::string Diagnostics::first_line(const Diagnostic& d) const {
  switch (d.severity) {
    case Severity::Error:
    case Severity::Warning:
      return file_name(d.reported.file) + ": " + std::to_string(d.reported.line) + ": " +
             d.message;
    case Severity::Note:
    case Severity::Failure:
      return "ipsecctl: " + d.message;
    case Severity::Plain:
      return d.message;
  }
  return d.message;
}

void Diagnostics::render(const Diagnostic& d) const {
  if (sink_ == nullptr) return;  // counted, never shown
  if (style_ == DiagnosticStyle::OpenBsd) {
    std::fprintf(sink_, "%s\n", first_line(d).c_str());
    return;
  }
  const std::string* text = d.span.known() ? find_line(d.span.file, d.span.line) : nullptr;
  render_caret(d, text);
}

void Diagnostics::render_caret(const Diagnostic& d, const std::string* text) const {
  const bool positioned = d.severity == Severity::Error || d.severity == Severity::Warning;
  if (color_ && positioned)
    std::fprintf(sink_, "%s%s%s\n", kBold, first_line(d).c_str(), kReset);
  else
    std::fprintf(sink_, "%s\n", first_line(d).c_str());
  if (d.span.known()) {
    // The chain of include statements that led here, innermost first.
    std::optional<SourceSpan> from = files_.at(d.span.file).included_from;
    for (int depth = 0; from && depth < 64; ++depth) {
      std::fprintf(sink_, "  in a file included from %s:%u\n", file_name(from->file).c_str(),
                   from->line);
      from = files_.at(from->file).included_from;
    }
  }
  if (text != nullptr) {
    const std::string number = std::to_string(d.span.line);
    const std::string pad(number.size(), ' ');
    std::string shown = *text;
    if (!shown.empty() && shown.back() == '\r') shown.pop_back();
    std::fprintf(sink_, " %s | %s\n", number.c_str(), shown.c_str());
    // Keep tabs where the line has them so that the caret lines up.
    std::string marks;
    const std::size_t first = d.span.column > 0 ? d.span.column - 1 : 0;
    for (std::size_t i = 0; i < first && i < shown.size(); ++i)
      marks += shown[i] == '\t' ? '\t' : ' ';
    std::size_t last = first;
    if (d.span.end_line == d.span.line && d.span.end_column >= d.span.column)
      last = d.span.end_column - 1;
    else if (d.span.end_line > d.span.line && !shown.empty())
      last = std::max(first, shown.size() - 1);
    marks += '^';
    for (std::size_t i = first + 1; i <= last; ++i) marks += '~';
    if (color_)
      std::fprintf(sink_, " %s | %s%s%s\n", pad.c_str(), kGreen, marks.c_str(), kReset);
    else
      std::fprintf(sink_, " %s | %s\n", pad.c_str(), marks.c_str());
  }
  if (!d.hint.empty()) {
    if (color_)
      std::fprintf(sink_, "%shint:%s %s\n", kCyan, kReset, d.hint.c_str());
    else
      std::fprintf(sink_, "hint: %s\n", d.hint.c_str());
  }
}

const std::string* Diagnostics::find_line(std::uint32_t file, std::uint32_t line) const {
  if (file >= files_.size()) return nullptr;
  for (const auto& [number, text] : files_[file].recent)
    if (number == line) return &text;
  return nullptr;
}

void Diagnostics::source_line(std::uint32_t file, std::uint32_t line, std::string_view text) {
  if (style_ != DiagnosticStyle::Caret || file >= files_.size()) return;
  auto& recent = files_[file].recent;
  recent.emplace_back(line, std::string(text));
  if (recent.size() > kRecentLines) recent.pop_front();
  while (rendered_ < records_.size()) {
    const Diagnostic& next = records_[rendered_];
    if (next.span.known() && find_line(next.span.file, next.span.line) == nullptr &&
        !(next.span.file == file && next.span.line < line))
      break;
    render(next);
    ++rendered_;
  }
}

void Diagnostics::flush() {
  while (rendered_ < records_.size()) render(records_[rendered_++]);
  if (sink_ != nullptr) std::fflush(sink_);
}

}  // namespace ipsecctl
