#include "parser/lexer.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>

#include "common/spelling.h"
#include "parser/keywords.h"

namespace ipsecctl::parser {

namespace {

// The C locale's character classes, whatever the process locale is: bytes
// above 127 are neither letters, digits, blanks nor punctuation.
bool is_digit(int c) { return c >= '0' && c <= '9'; }
bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(int c) { return is_digit(c) || is_alpha(c); }
bool is_space(int c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
bool is_punct(int c) { return c > ' ' && c < 127 && !is_alnum(c); }
bool is_blank(char c) { return c == ' ' || c == '\t'; }

bool allowed_to_end_number(int c) {
  return is_space(c) || c == ')' || c == ',' || c == '/' || c == '}' || c == '=';
}

// Every byte of every word is asked: a table, made once from the rule.
bool allowed_in_string(int c) {
  static const auto table = [] {
    std::array<bool, 256> allowed{};
    for (int b = 0; b < 256; ++b)
      allowed[static_cast<std::size_t>(b)] =
          is_alnum(b) || (is_punct(b) && b != '(' && b != ')' && b != '{' && b != '}' &&
                          b != '<' && b != '>' && b != '!' && b != '=' && b != '/' && b != '#' &&
                          b != ',');
    return allowed;
  }();
  return c >= 0 && c < 256 && table[static_cast<std::size_t>(c)];
}

// strtonum(3) over the whole range of long long.
bool to_number(const std::string& text, long long& value, const char*& problem) {
  errno = 0;
  char* end = nullptr;
  value = std::strtoll(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0') {
    problem = "invalid";
    return false;
  }
  if (errno == ERANGE) {
    problem = value == LLONG_MIN ? "too small" : "too large";
    return false;
  }
  return true;
}

// How long a run of digits may be for the quick way to read it: the
// characters OpenBSD pushes back when it turns out to be a word must all
// fit its pushback buffer, or some are lost, which only the slow way does.
constexpr std::size_t kQuickDigits = 100;

}  // namespace

Lexer::Lexer(Diagnostics& diagnostics, MacroTable& macros, bool quick_scanning,
             std::size_t block_size)
    : diag_(diagnostics),
      macros_(macros),
      keep_lines_(diagnostics.wants_source_lines()),
      quick_(quick_scanning),
      block_size_(block_size == 0 ? 1 : block_size) {
  buf_.reserve(kBufferSize);
}

void Lexer::push_file(FilePtr stream, const std::string& display_name,
                      const std::string& canonical, std::optional<SourceSpan> included_from,
                      std::uint64_t length) {
  auto file = std::make_unique<OpenFile>();
  file->stream = std::move(stream);
  file->left = length;
  file->id = diag_.open_file(display_name, included_from);
  file->canonical = canonical;
  files_.push_back(std::move(file));
  if (files_.size() == 1) report_line_ = 1;
  sync_position();
}

bool Lexer::is_open(const std::string& canonical) const {
  for (const auto& f : files_)
    if (!canonical.empty() && f->canonical == canonical) return true;
  return false;
}

std::uint32_t Lexer::file_id() const { return files_.empty() ? 0 : files_.back()->id; }

void Lexer::sync_position() {
  if (!files_.empty()) diag_.set_position(files_.back()->id, report_line_);
}

void Lexer::error(const std::string& message, std::string hint) {
  sync_position();
  diag_.set_focus(token_span_);
  diag_.error(message, std::move(hint));
}

// Reads the next block. read(2) where there is a descriptor, so that
// standard input from a terminal is answered line by line; stdio for a
// string (fmemopen).
bool Lexer::refill(OpenFile& f) {
  if (f.at_eof) return false;
  if (!f.data) f.data = std::make_unique<char[]>(block_size_);
  f.read_before += f.end;
  f.at = f.end = 0;
  const int fd = ::fileno(f.stream.get());
  const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(block_size_, f.left));
  for (;;) {
    const ssize_t n = want == 0 ? 0
                      : fd >= 0 ? ::read(fd, f.data.get(), want)
                                : static_cast<ssize_t>(
                                      std::fread(f.data.get(), 1, want, f.stream.get()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      f.at_eof = true;
      return false;
    }
    f.end = static_cast<std::size_t>(n);
    if (f.left != kWholeFile) f.left -= f.end;
    return true;
  }
}

// getc(), keeping track of where each byte lies and, for carets, of the
// text of the line being read.
int Lexer::read_byte(OpenFile& f) {
  if (f.at == f.end && !refill(f)) {
    complete_line(f);
    return EOF;
  }
  const int c = static_cast<unsigned char>(f.data[f.at++]);
  pos_ = Position{f.id, f.phys_line, ++f.column};
  end_pos_ = pos_;
  if (c == '\n') {
    complete_line(f);
    ++f.phys_line;
    f.column = 0;
  } else if (keep_lines_) {
    f.line_text.push_back(static_cast<char>(c));
  }
  return c;
}

std::string_view Lexer::buffered() const {
  if (!quick_ || in_macro_ || pushback_index_ != 0 || files_.empty()) return {};
  const OpenFile& f = *files_.back();
  if (f.at == f.end) return {};
  return {f.data.get() + f.at, f.end - f.at};
}

void Lexer::take(std::size_t n) {
  if (n == 0) return;
  OpenFile& f = current();
  if (keep_lines_) f.line_text.append(f.data.get() + f.at, n);
  f.at += n;
  f.column += static_cast<std::uint32_t>(n);
  pos_ = Position{f.id, f.phys_line, f.column};
  end_pos_ = pos_;
}

void Lexer::complete_line(OpenFile& f) {
  if (!keep_lines_) return;
  if (f.column == 0 && f.line_text.empty()) return;
  diag_.source_line(f.id, f.phys_line, f.line_text);
  f.line_text.clear();
}

void Lexer::close_all() {
  for (auto& f : files_) complete_line(*f);
}

// lgetc(): the next character, from a macro's value first, then from what
// was pushed back, then from the file. Outside quotes a backslash before a
// newline joins lines and a backslash before anything else stands for that
// character; at the end of an included file the includer goes on.
int Lexer::lgetc(int quotec) {
  if (in_macro_) {
    if (parse_index_ >= 0) {
      const auto i = static_cast<std::size_t>(parse_index_++);
      const int c = i < macro_value_.size() ? static_cast<unsigned char>(macro_value_[i]) : 0;
      if (c != 0) {
        pos_ = macro_pos_;
        end_pos_ = macro_end_;
        return c;
      }
      in_macro_ = false;
    } else {
      ++parse_index_;
    }
  }
  if (pushback_index_ > 0) {
    --pushback_index_;
    pos_ = pushback_pos_[static_cast<std::size_t>(pushback_index_)];
    end_pos_ = pos_;
    return static_cast<unsigned char>(pushback_[static_cast<std::size_t>(pushback_index_)]);
  }
  if (quotec != 0) {
    int c = read_byte(current());
    if (c == EOF) {
      error("reached end of file while parsing quoted string",
            keep_lines_ ? "the quote that starts here is never closed" : "");
      if (files_.size() == 1 || !popfile()) return EOF;
      return quotec;
    }
    return c;
  }
  int c;
  while ((c = read_byte(current())) == '\\') {
    const int next = read_byte(current());
    if (next != '\n') {
      c = next;
      break;
    }
    report_line_ = current().lineno;
    ++current().lineno;
    sync_position();
  }
  while (c == EOF) {
    if (files_.size() == 1 || !popfile()) return EOF;
    c = read_byte(current());
  }
  return c;
}

// lungetc(): back into the macro's value if it came from there, else onto
// a pushback buffer of 127 characters; beyond that characters are lost, as
// they are on OpenBSD.
void Lexer::lungetc(int c) {
  if (c == EOF) return;
  if (in_macro_) {
    --parse_index_;
    if (parse_index_ >= 0) return;
  }
  if (pushback_index_ + 1 >= kMaxPushback) return;
  pushback_[static_cast<std::size_t>(pushback_index_)] = static_cast<char>(c);
  pushback_pos_[static_cast<std::size_t>(pushback_index_)] = pos_;
  ++pushback_index_;
}

bool Lexer::popfile() {
  complete_line(current());
  files_.pop_back();
  sync_position();
  return !files_.empty();
}

// findeol(): drops the rest of the line, following continuations, and
// hands the grammar a token that fits nowhere.
Parser::symbol_type Lexer::findeol() {
  in_macro_ = false;
  for (;;) {
    int c;
    if (pushback_index_ > 0)
      c = static_cast<unsigned char>(pushback_[static_cast<std::size_t>(--pushback_index_)]);
    else
      c = lgetc(0);
    if (c == '\n') {
      ++current().lineno;
      break;
    }
    if (c == EOF) break;
  }
  return Parser::make_ERROR(token_span_);
}

SourceSpan Lexer::span_of(const Position& first, const Position& last) {
  SourceSpan s;
  s.file = first.file;
  s.line = first.line;
  s.column = first.column;
  if (last.file == first.file &&
      (last.line > first.line || (last.line == first.line && last.column >= first.column))) {
    s.end_line = last.line;
    s.end_column = last.column;
  } else {
    s.end_line = first.line;
    s.end_column = first.column;
  }
  return s;
}

// The digits in buf_ as a NUMBER (token_span_ set), or OpenBSD's error.
Parser::symbol_type Lexer::number_token() {
  long long value = 0;
  const char* problem = nullptr;
  const bool ok = to_number(buf_, value, problem);
  // OpenBSD's strtonum() gives errno back as it found it when the number
  // is good, and leaves EINVAL or ERANGE behind when it is not (see
  // Diagnostics).
  if (!ok) diag_.set_reference_errno(std::string_view(problem) == "invalid" ? EINVAL : ERANGE);
  if (!ok) {
    error("\"" + buf_ + "\" invalid number: " + problem);
    return findeol();
  }
  return Parser::make_NUMBER(value, token_span_);
}

Parser::symbol_type Lexer::char_token(int c, const SourceSpan& span) {
  switch (c) {
    case '\n': return Parser::make_NEWLINE(span);
    case '=': return Parser::make_EQUALS(span);
    case '/': return Parser::make_SLASH(span);
    case '(': return Parser::make_LPAREN(span);
    case ')': return Parser::make_RPAREN(span);
    case '{': return Parser::make_LBRACE(span);
    case '}': return Parser::make_RBRACE(span);
    case ',': return Parser::make_COMMA(span);
    case '-': return Parser::make_MINUS(span);
    // OpenBSD returns a NUL byte as token 0, the end of the input, and
    // silently ignores the rest of the file; a gateway would then load
    // half its policy. Here it is a syntax error like any stray byte.
    default: return Parser::make_JUNK(span);
  }
}

Parser::symbol_type Lexer::next() {
  Parser::symbol_type token = scan();
  const auto kind = token.kind();
  if (kind == Parser::symbol_kind::S_NEWLINE && files_.size() == 1 && !in_macro_) {
    const OpenFile& top = *files_.front();
    statement_end_ = top.read_before + top.at;
  } else if (kind != Parser::symbol_kind::S_YYEOF) {
    statement_end_ = kNoStatementEnd;
  }
  return token;
}

Parser::symbol_type Lexer::scan() {
  if (include_newline_) {
    include_newline_ = false;
    report_line_ = current().lineno;
    sync_position();
    return Parser::make_NEWLINE(token_span_);
  }
  for (;;) {  // OpenBSD's `goto top` after a macro is entered
    buf_.clear();
    int c;
    for (;;) {
      const std::string_view rest = buffered();
      std::size_t n = 0;
      while (n < rest.size() && (rest[n] == ' ' || rest[n] == '\t')) ++n;
      take(n);
      if ((c = lgetc(0)) != ' ' && c != '\t') break;
    }
    report_line_ = current().lineno;
    sync_position();
    Position start = pos_;
    Position end = end_pos_;
    if (c == '#') {
      for (;;) {
        const std::string_view rest = buffered();
        std::size_t n = 0;
        while (n < rest.size() && rest[n] != '\n' && rest[n] != '\\') ++n;
        take(n);
        if ((c = lgetc(0)) == '\n' || c == EOF) break;
      }
      start = pos_;
      end = end_pos_;
    }
    token_span_ = span_of(start, end);
    if (c == '$' && !in_macro_) {
      for (;;) {
        c = lgetc(0);
        if (c == EOF) return Parser::make_END(token_span_);
        if (buf_.size() + 1 >= kBufferSize - 1) {
          error("string too long");
          return findeol();
        }
        if (is_alnum(c) || c == '_') {
          buf_.push_back(static_cast<char>(c));
          end = end_pos_;
          continue;
        }
        lungetc(c);
        break;
      }
      token_span_ = span_of(start, end);
      const std::string* value = macros_.use(buf_);
      if (value == nullptr) {
        std::string hint;
        if (keep_lines_) {
          if (auto guess = closest_word(buf_, macros_.names()))
            hint = "did you mean $" + *guess + "?";
          else
            hint = "define it before its first use: " + buf_ + " = \"value\"";
        }
        error("macro '" + buf_ + "' not defined", hint);
        return findeol();
      }
      macro_value_ = *value;
      in_macro_ = true;
      parse_index_ = 0;
      macro_pos_ = start;
      macro_end_ = end;
      continue;
    }
    if (c == '\'' || c == '"') return scan_quoted(c);

    if (c == '-' || is_digit(c)) {
      // The quick way: the digits and what follows them are buffered.
      const std::string_view rest = buffered();
      std::size_t n = 0;
      while (n < rest.size() && n < kQuickDigits && is_digit(rest[n])) ++n;
      if (n < rest.size() && n < kQuickDigits && rest[n] != '\\') {
        const bool lone_minus = c == '-' && n == 0;
        if (!lone_minus && allowed_to_end_number(static_cast<unsigned char>(rest[n]))) {
          buf_.push_back(static_cast<char>(c));
          buf_.append(rest.data(), n);
          take(n);
          if (n > 0) end = end_pos_;
          // The byte after the number, as the slow way reads it; a blank
          // may as well stay where it is, for the next token's quick way.
          if (!is_blank(rest[n])) lungetc(lgetc(0));
          token_span_ = span_of(start, end);
          return number_token();
        }
        // A word, read again below from where it starts, or a minus.
        end = start;
        if (c == '-') return Parser::make_MINUS(token_span_);
      } else {
        buf_pos_.clear();
        do {
          buf_.push_back(static_cast<char>(c));
          buf_pos_.push_back(pos_);
          end = end_pos_;
          if (buf_.size() >= kBufferSize) {
            error("string too long");
            return findeol();
          }
        } while ((c = lgetc(0)) != EOF && is_digit(c));
        lungetc(c);
        const bool lone_minus = buf_.size() == 1 && buf_[0] == '-';
        if (!lone_minus && (c == EOF || allowed_to_end_number(c))) {
          token_span_ = span_of(start, end);
          return number_token();
        }
        // Not a number after all: push the digits back and read a word.
        while (buf_.size() > 1) {
          pos_ = buf_pos_.back();
          lungetc(static_cast<unsigned char>(buf_.back()));
          buf_.pop_back();
          buf_pos_.pop_back();
        }
        c = static_cast<unsigned char>(buf_[0]);
        buf_.clear();
        end = start;
        if (c == '-') return Parser::make_MINUS(token_span_);
      }
    }

    if (is_alnum(c) || c == ':' || c == '_' || c == '*') {
      buf_.push_back(static_cast<char>(c));
      for (;;) {
        // The quick way: a run of word bytes that are buffered, up to a
        // byte that ends the word (left where it is) or the buffer's end.
        const std::string_view rest = buffered();
        std::size_t n = 0;
        while (n < rest.size() && allowed_in_string(static_cast<unsigned char>(rest[n])) &&
               rest[n] != '\\')
          ++n;
        if (buf_.size() + n < kBufferSize) {
          if (n > 0) {
            buf_.append(rest.data(), n);
            take(n);
            end = end_pos_;
          }
          if (n < rest.size() && rest[n] != '\\') {
            // The byte that ends the word is read and pushed back, as the
            // slow way does: a newline hands its line to the diagnostics
            // now, not with the next token. A blank changes nothing by
            // being read, and left where it is the next token is taken the
            // quick way too.
            if (!is_blank(rest[n])) lungetc(lgetc(0));
            break;
          }
          if (n > 0 && n == rest.size()) continue;
        }
        // One byte the step-by-step way: a backslash, a macro's value,
        // what was pushed back, the next block, the last bytes before the
        // length limit.
        if ((c = lgetc(0)) == EOF || !allowed_in_string(c)) {
          lungetc(c);
          break;
        }
        buf_.push_back(static_cast<char>(c));
        end = end_pos_;
        if (buf_.size() >= kBufferSize) {
          error("string too long");
          return findeol();
        }
      }
      token_span_ = span_of(start, end);
      if (auto keyword = lookup_keyword(buf_)) return Parser::symbol_type(*keyword, token_span_);
      return Parser::make_STRING(buf_, token_span_);
    }
    if (c == '\n') {
      report_line_ = current().lineno;
      ++current().lineno;
      sync_position();
    }
    if (c == EOF) return Parser::make_END(token_span_);
    return char_token(c, token_span_);
  }
}

// A quoted string: the quote character and blanks can be escaped with a
// backslash, a backslash before a newline and a raw newline are dropped
// (the line counter still moves), any other backslash stays.
Parser::symbol_type Lexer::scan_quoted(int quotec) {
  const Position start = pos_;
  Position end = end_pos_;
  for (;;) {
    int c = lgetc(quotec);
    if (c == EOF) return Parser::make_END(token_span_);
    if (c == '\n') {
      ++current().lineno;
      continue;
    }
    if (c == '\\') {
      const int next = lgetc(quotec);
      if (next == EOF) return Parser::make_END(token_span_);
      if (next == quotec || next == ' ' || next == '\t') {
        c = next;
      } else if (next == '\n') {
        ++current().lineno;
        continue;
      } else {
        lungetc(next);
      }
    } else if (c == quotec) {
      end = end_pos_;
      break;
    } else if (c == '\0') {
      error("syntax error");
      return findeol();
    }
    if (buf_.size() + 1 >= kBufferSize - 1) {
      error("string too long");
      return findeol();
    }
    buf_.push_back(static_cast<char>(c));
  }
  token_span_ = span_of(start, end);
  return Parser::make_STRING(buf_, token_span_);
}

}  // namespace ipsecctl::parser
