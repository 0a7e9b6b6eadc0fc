#include "parser/iked/iked_lexer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>

#include "parser/iked/iked_keywords.h"
#include "parser/iked/iked_numbers.h"

namespace ipsecctl::iked {
namespace {

// Marker bytes around a macro's value in the push-back buffer (igetc()
// in lexer.h knows them too).
constexpr int kStartExpand = 1;
constexpr int kDoneExpand = 2;

// Character classes of the C locale (iked's), as tables: the scanner asks
// them for every byte.
struct CharClasses {
  bool word_start[256] = {};
  bool in_word[256] = {};
  bool ends_number[256] = {};
  bool digit[256] = {};
  bool alnum[256] = {};
  CharClasses() {
    for (int c = 0; c < 128; ++c) {
      const bool alnum_c = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      const bool space = c == ' ' || (c >= '\t' && c <= '\r');
      const bool punct = c > 32 && c < 127 && !alnum_c;
      alnum[c] = alnum_c;
      digit[c] = c >= '0' && c <= '9';
      word_start[c] = alnum_c || c == ':' || c == '_' || c == '*';
      in_word[c] = alnum_c || (punct && std::string_view("(){}<>!=/#,").find(static_cast<char>(c)) ==
                                            std::string_view::npos);
      ends_number[c] = space || c == ')' || c == ',' || c == '/' || c == '}' || c == '=';
    }
  }
};
const CharClasses kClasses;

bool is_class(const bool (&table)[256], int c) { return c >= 0 && c < 256 && table[c]; }

bool allowed_to_end_number(int c) { return is_class(kClasses.ends_number, c); }
bool allowed_in_string(int c) { return is_class(kClasses.in_word, c); }
bool is_alnum(int c) { return is_class(kClasses.alnum, c); }
bool is_digit(int c) { return is_class(kClasses.digit, c); }

Parser::symbol_type char_token(int c) {
  switch (c) {
    case '\n': return Parser::make_NEWLINE();
    case '=': return Parser::make_EQUALS();
    case '/': return Parser::make_SLASH();
    case '(': return Parser::make_LPAREN();
    case ')': return Parser::make_RPAREN();
    case '{': return Parser::make_LBRACE();
    case '}': return Parser::make_RBRACE();
    case ',': return Parser::make_COMMA();
    default: return Parser::make_JUNK();
  }
}

}  // namespace

Lexer::Lexer(Diagnostics& diagnostics, Reporter& reporter)
    : diag_(diagnostics), reporter_(reporter) {}

bool Lexer::push_file(const std::string& name, bool secret) {
  auto file = std::make_unique<OpenFile>();
  const bool first = files_.empty();
  if (first && name == "-") {
    file->stream = UniqueFile(stdin);
    file->name = "stdin";
  } else {
    file->stream = open_file(name.c_str(), "r");
    if (!file->stream) {
      reporter_.warning("pushfile: " + name + ": " + std::strerror(errno));
      return false;
    }
    file->name = name;
    if (secret) {
      struct stat st {};
      if (::fstat(::fileno(file->stream.get()), &st) != 0) {
        reporter_.warning("cannot stat " + name + ": " + std::strerror(errno));
        return false;
      }
      if (st.st_uid != 0 && st.st_uid != ::getuid()) {
        reporter_.warning(name + ": owner not root or current user");
        return false;
      }
      if ((st.st_mode & (S_IWGRP | S_IXGRP | S_IRWXO)) != 0) {
        reporter_.warning(name + ": group writable or world read/writable");
        return false;
      }
    }
  }
  file->lineno = first ? 1 : 0;
  file->block = std::make_unique<unsigned char[]>(kBlockSize);
  file->id = diag_.open_file(file->name);
  files_.push_back(std::move(file));
  return true;
}

void Lexer::push_stream(UniqueFile stream, const std::string& name) {
  auto file = std::make_unique<OpenFile>();
  file->stream = std::move(stream);
  file->name = name;
  file->lineno = files_.empty() ? 1 : 0;
  file->block = std::make_unique<unsigned char[]>(kBlockSize);
  file->id = diag_.open_file(name);
  files_.push_back(std::move(file));
}

std::uint32_t Lexer::file_id() const { return files_.empty() ? 0 : files_.back()->id; }

void Lexer::count_error() {
  if (files_.empty())
    ++top_errors_;
  else
    ++files_.back()->errors;
}

void Lexer::finish() {
  while (!files_.empty()) {
    top_errors_ += files_.back()->errors;
    files_.pop_back();
  }
}

void Lexer::define(const std::string& name, const std::string& value, bool from_command_line) {
  auto it = macros_.find(name);
  if (it != macros_.end() && it->second.persist) return;
  macros_[name] = Macro{value, from_command_line};
}

int Lexer::refill(OpenFile& f) {
  if (f.at_eof) return EOF;
  f.at = 0;
  f.end = std::fread(f.block.get(), 1, kBlockSize, f.stream.get());
  if (f.end == 0) {
    f.at_eof = true;
    return EOF;
  }
  return f.block[f.at++];
}

void Lexer::lungetc(int c) {
  if (c == EOF) return;
  current().unget.push_back(c);
}

bool Lexer::popfile() {
  // Never the top file: iked only pops what an include opened.
  auto closing = std::move(files_.back());
  files_.pop_back();
  files_.back()->errors += closing->errors;
  return true;
}

int Lexer::lgetc(int quotec) {
  if (quotec != 0) {
    const int c = igetc();
    if (c == EOF) {
      reporter_.error("reached end of file while parsing quoted string");
      if (files_.size() == 1) return EOF;
      popfile();
      return quotec;
    }
    return c;
  }
  int c;
  while ((c = igetc()) == '\\') {
    const int next = igetc();
    if (next != '\n') {
      c = next;
      break;
    }
    report_line_ = current().lineno;
    ++current().lineno;
  }
  while (c == EOF) {
    // The first end of a file reads as a newline: a last line without one
    // still ends its statement, in the file it belongs to.
    if (!current().eof_reached) {
      current().eof_reached = true;
      return '\n';
    }
    while (c == EOF) {
      if (files_.size() == 1) return EOF;
      popfile();
      c = igetc();
    }
  }
  return c;
}

Parser::symbol_type Lexer::findeol() {
  for (;;) {
    const int c = lgetc(0);
    if (c == '\n') {
      ++current().lineno;
      break;
    }
    if (c == EOF) break;
  }
  return Parser::make_ERROR();
}

void Lexer::skip_line() {
  int c;
  while ((c = lgetc(0)) != '\n' && c != EOF) {
  }
  if (c == '\n') lungetc(c);
}

Parser::symbol_type Lexer::word_token(const std::string& word) {
  if (auto keyword = keyword_token(word)) return Parser::symbol_type(*keyword);
  return Parser::make_STRING(word);
}

Parser::symbol_type Lexer::next() {
  std::string buf;
  int c;
top:
  buf.clear();
  while ((c = lgetc(0)) == ' ' || c == '\t') {
  }
  report_line_ = current().lineno;
  if (c == '#')
    while ((c = lgetc(0)) != '\n' && c != EOF) {
    }
  if (c == '$' && !expanding_) {
    for (;;) {
      if ((c = lgetc(0)) == EOF) return Parser::make_END();
      if (buf.size() + 1 >= kBufferSize - 1) {
        reporter_.error("string too long");
        return findeol();
      }
      if (is_alnum(c) || c == '_') {
        buf.push_back(static_cast<char>(c));
        continue;
      }
      lungetc(c);
      break;
    }
    auto macro = macros_.find(buf);
    if (macro == macros_.end()) {
      reporter_.error("macro '" + buf + "' not defined");
      return findeol();
    }
    const std::string& value = macro->second.value;
    lungetc(kDoneExpand);
    for (auto it = value.rbegin(); it != value.rend(); ++it)
      lungetc(static_cast<unsigned char>(*it));
    lungetc(kStartExpand);
    goto top;
  }

  if (c == '\'' || c == '"') {
    const int quotec = c;
    for (;;) {
      if ((c = lgetc(quotec)) == EOF) return Parser::make_END();
      if (c == '\n') {
        ++current().lineno;
        continue;
      }
      if (c == '\\') {
        const int next = lgetc(quotec);
        if (next == EOF) return Parser::make_END();
        if (next == quotec || next == ' ' || next == '\t') {
          c = next;
        } else if (next == '\n') {
          ++current().lineno;
          continue;
        } else {
          lungetc(next);
        }
      } else if (c == quotec) {
        break;
      } else if (c == '\0') {
        reporter_.error("syntax error");
        return findeol();
      }
      if (buf.size() + 1 >= kBufferSize - 1) {
        reporter_.error("string too long");
        return findeol();
      }
      buf.push_back(static_cast<char>(c));
    }
    return Parser::make_STRING(buf);
  }

  if (c == '-' || is_digit(c)) {
    do {
      buf.push_back(static_cast<char>(c));
      if (buf.size() >= kBufferSize) {
        reporter_.error("string too long");
        return findeol();
      }
    } while ((c = lgetc(0)) != EOF && is_digit(c));
    lungetc(c);
    const bool lone_minus = buf == "-";
    if (!lone_minus && (c == EOF || allowed_to_end_number(c))) {
      const NumberResult n = strtonum(buf, LLONG_MIN, LLONG_MAX);
      if (n.problem != nullptr) {
        reporter_.error("\"" + buf + "\" invalid number: " + n.problem);
        return findeol();
      }
      return Parser::make_NUMBER(n.value);
    }
    // Not a number after all: read it again as a word.
    while (buf.size() > 1) {
      lungetc(static_cast<unsigned char>(buf.back()));
      buf.pop_back();
    }
    c = static_cast<unsigned char>(buf[0]);
    buf.clear();
    if (c == '-') return Parser::make_JUNK();
  }

  if (is_class(kClasses.word_start, c)) {
    do {
      buf.push_back(static_cast<char>(c));
      if (buf.size() >= kBufferSize) {
        reporter_.error("string too long");
        return findeol();
      }
    } while ((c = lgetc(0)) != EOF && allowed_in_string(c));
    lungetc(c);
    return word_token(buf);
  }
  if (c == '\n') {
    report_line_ = current().lineno;
    ++current().lineno;
  }
  if (c == EOF) return Parser::make_END();
  return char_token(c);
}

}  // namespace ipsecctl::iked
