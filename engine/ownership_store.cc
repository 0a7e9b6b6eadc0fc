#include "engine/ownership_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

#include "common/unique_fd.h"
#include "engine/state_paths.h"

namespace ipsecctl::engine {

using backends::OwnedEntries;
using backends::OwnedEntry;
using backends::OwnedKernelEntry;
using backends::OwnedKind;

namespace {

constexpr const char* kHeader = "# ipsecctl ownership record 1";
constexpr const char* kSuffix = ".record";

// Words never hold blanks or line ends: those bytes (and '%') are %XX.
std::string escape(const std::string& text) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= ' ' || c == '%' || c >= 0x7f) {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::optional<std::string> unescape(const std::string& word) {
  if (word.find('%') == std::string::npos) return word;
  std::string out;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (word[i] != '%') {
      out += word[i];
      continue;
    }
    if (i + 2 >= word.size()) return std::nullopt;
    char* end = nullptr;
    std::string two = word.substr(i + 1, 2);
    long v = std::strtol(two.c_str(), &end, 16);
    if (two.size() != 2 || *end != '\0') return std::nullopt;
    out += static_cast<char>(v);
    i += 2;
  }
  return out;
}

// The record's file name: a digest of the source (paths can be long and
// hold any byte; the source itself is inside).
std::string file_name(const std::string& source) {
  char name[32];
  std::snprintf(name, sizeof name, "%016llx",
                static_cast<unsigned long long>(backends::digest_bytes(source.data(), source.size())));
  return std::string(name) + kSuffix;
}

}  // namespace

OwnershipStore::OwnershipStore(Diagnostics& diagnostics)
    : OwnershipStore(diagnostics, state_directory() + "/" + namespace_name()) {}

OwnershipStore::OwnershipStore(Diagnostics& diagnostics, std::string directory)
    : diag_(diagnostics), dir_(std::move(directory)) {}

std::string OwnershipStore::source_of(const std::string& file_argument) {
  if (file_argument == "-") return "-";
  std::unique_ptr<char, decltype(&std::free)> real(::realpath(file_argument.c_str(), nullptr),
                                                    &std::free);
  return real ? std::string(real.get()) : file_argument;
}

std::string OwnershipStore::path_of(const std::string& source) const {
  return dir_ + "/" + file_name(source);
}

namespace {

// A record's text in pieces of about 64 KiB: one of 300,000 policies is
// 17 MB that never needs to be in memory at once.
class PieceSink {
 public:
  explicit PieceSink(const std::function<void(std::string_view)>& sink) : sink_(sink) {
    out_.reserve(kPiece + 256);
  }
  ~PieceSink() {
    if (!out_.empty()) sink_(out_);
  }
  PieceSink(const PieceSink&) = delete;
  PieceSink& operator=(const PieceSink&) = delete;
  std::string& text() { return out_; }
  void line_done() {
    if (out_.size() < kPiece) return;
    sink_(out_);
    out_.clear();
  }

 private:
  static constexpr std::size_t kPiece = (1 << 16) - 256;
  const std::function<void(std::string_view)>& sink_;
  std::string out_;
};

// Two hex digits a byte, from one table: 300,000 lines of 48 digits each
// through snprintf cost more than the rest of the record together.
void put_hex(char* at, std::uint64_t v) {
  static const auto pairs = [] {
    std::array<char, 512> table{};
    const char* digits = "0123456789abcdef";
    for (std::size_t b = 0; b < 256; ++b) {
      table[2 * b] = digits[b >> 4];
      table[2 * b + 1] = digits[b & 15];
    }
    return table;
  }();
  for (int i = 7; i >= 0; --i, v >>= 8) std::memcpy(at + 2 * i, &pairs[2 * (v & 0xff)], 2);
}

}  // namespace

void OwnershipStore::serialize_kernel_part(const std::string& source,
                                           const std::vector<OwnedKernelEntry>& kernel,
                                           const std::function<void(std::string_view)>& sink) {
  PieceSink out(sink);
  out.text() += kHeader;
  out.text() += "\nsource " + escape(source) + "\n";
  char line[96];
  for (const OwnedKernelEntry& e : kernel) {
    const char* kind = backends::owned_kind_word(e.kind);
    const std::size_t kind_size = std::strlen(kind);
    std::memcpy(line, kind, kind_size);
    char* at = line + kind_size;
    *at++ = ' ';
    put_hex(at, e.identity_hi);
    put_hex(at + 16, e.identity_lo);
    at += 32;
    *at++ = ' ';
    put_hex(at, e.digest);
    at += 16;
    *at++ = '\n';
    out.text().append(line, static_cast<std::size_t>(at - line));
    out.line_done();
  }
}

void OwnershipStore::serialize_entries(const std::vector<OwnedEntry>& entries,
                                       const std::function<void(std::string_view)>& sink) {
  PieceSink out(sink);
  char digest[17];
  for (const OwnedEntry& e : entries) {
    put_hex(digest, e.digest);
    std::string& text = out.text();
    text += backends::owned_kind_word(e.kind);
    text += ' ';
    text += escape(e.key);
    text += ' ';
    text.append(digest, 16);
    if (!e.payload.empty()) {
      text += ' ';
      text += escape(e.payload);
    }
    text += '\n';
    out.line_done();
  }
}

void OwnershipStore::serialize_to(const std::string& source, const OwnedEntries& entries,
                                  const std::function<void(std::string_view)>& sink) {
  serialize_kernel_part(source, entries.kernel, sink);
  serialize_entries(entries.entries, sink);
}

std::string OwnershipStore::serialize(const std::string& source, const OwnedEntries& entries) {
  std::string text;
  serialize_to(source, entries, [&text](std::string_view piece) { text += piece; });
  return text;
}

namespace {

bool hex64(std::string_view text, std::uint64_t& out) {
  if (text.empty() || text.size() > 16) return false;
  out = 0;
  for (char c : text) {
    unsigned v;
    if (c >= '0' && c <= '9') v = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') v = static_cast<unsigned>(c - 'a' + 10);
    else return false;
    out = out << 4 | v;
  }
  return true;
}

// The next blank-separated word of `line`, advancing it.
std::string_view next_word(std::string_view& line) {
  std::size_t start = line.find_first_not_of(' ');
  if (start == std::string_view::npos) {
    line = {};
    return {};
  }
  std::size_t end = line.find(' ', start);
  std::string_view word = line.substr(start, end == std::string_view::npos ? line.size() - start
                                                                            : end - start);
  line = end == std::string_view::npos ? std::string_view{} : line.substr(end);
  return word;
}

}  // namespace

namespace {

// A record read line by line, as its text arrives: a record of 300,000
// policies is 17 MB of text, and holding it whole while parsing it cost a
// reload 4,000 fresh pages.
class RecordReader {
 public:
  // Kernel lines are 56 or 57 bytes: one allocation for a large record.
  explicit RecordReader(std::size_t size_hint) { entries_.kernel.reserve(size_hint / 56); }

  // False once the text is known not to be a record.
  bool line(std::string_view line) {
    if (!header_seen_) {
      header_seen_ = true;
      return line == kHeader;
    }
    std::string_view word = next_word(line);
    if (word.empty()) return true;
    if (word == "source") {
      auto s = unescape(std::string(next_word(line)));
      if (!s) return false;
      source_ = *s;
      return true;
    }
    auto kind = backends::owned_kind_from_word(word);
    if (!kind) return false;
    std::string_view key = next_word(line);
    std::string_view digest = next_word(line);
    std::string_view payload = next_word(line);
    if (*kind == OwnedKind::Policy || *kind == OwnedKind::State) {
      OwnedKernelEntry e;
      e.kind = *kind;
      if (key.size() != 32 || !hex64(key.substr(0, 16), e.identity_hi) ||
          !hex64(key.substr(16), e.identity_lo) || !hex64(digest, e.digest))
        return false;
      entries_.add(e);
      return true;
    }
    OwnedEntry e;
    e.kind = *kind;
    auto k = unescape(std::string(key));
    auto p = unescape(std::string(payload));
    if (!k || !p || !hex64(digest, e.digest)) return false;
    e.key = *k;
    e.payload = *p;
    entries_.add(std::move(e));
    return true;
  }

  std::optional<std::pair<std::string, OwnedEntries>> finish() {
    if (!header_seen_ || source_.empty()) return std::nullopt;
    return std::make_pair(std::move(source_), std::move(entries_));
  }

 private:
  bool header_seen_ = false;
  std::string source_;
  OwnedEntries entries_;
};

// Hands `reader` each line of `text`; `carry` holds the part of a line
// an earlier piece ended in. False once the reader refuses a line.
bool feed_lines(RecordReader& reader, std::string_view text, std::string& carry) {
  for (;;) {
    const std::size_t nl = text.find('\n');
    if (nl == std::string_view::npos) {
      carry.append(text);
      return true;
    }
    bool ok;
    if (carry.empty()) {
      ok = reader.line(text.substr(0, nl));
    } else {
      carry.append(text.substr(0, nl));
      ok = reader.line(carry);
      carry.clear();
    }
    if (!ok) return false;
    text.remove_prefix(nl + 1);
  }
}

}  // namespace

std::optional<std::pair<std::string, OwnedEntries>> OwnershipStore::parse(const std::string& text) {
  RecordReader reader(text.size());
  std::string carry;
  if (!feed_lines(reader, text, carry)) return std::nullopt;
  if (!carry.empty() && !reader.line(carry)) return std::nullopt;
  return reader.finish();
}

std::optional<std::pair<std::string, OwnedEntries>> OwnershipStore::read_file(
    const std::string& path) const {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  struct stat st {};
  const std::size_t size =
      ::fstat(fd.get(), &st) == 0 && st.st_size > 0 ? static_cast<std::size_t>(st.st_size) : 0;
  RecordReader reader(size);
  std::string carry;
  std::vector<char> buf(1 << 16);
  bool ok = true;
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (!feed_lines(reader, std::string_view(buf.data(), static_cast<std::size_t>(n)), carry)) {
      ok = false;
      break;
    }
  }
  if (ok && !carry.empty()) ok = reader.line(carry);
  auto record = ok ? reader.finish() : std::nullopt;
  if (!record) diag_.note("ignoring " + path + ": not an ipsecctl ownership record");
  return record;
}

bool OwnershipStore::has_record(const std::string& source) const {
  struct stat st {};
  return ::stat(path_of(source).c_str(), &st) == 0;
}

OwnedEntries OwnershipStore::load(const std::string& source) const {
  auto record = read_file(path_of(source));
  if (!record || record->first != source) return {};
  return std::move(record->second);
}

std::vector<std::pair<std::string, OwnedEntries>> OwnershipStore::all(
    const std::string& except) const {
  std::vector<std::pair<std::string, OwnedEntries>> out;
  struct CloseDir {
    void operator()(DIR* d) const { ::closedir(d); }
  };
  std::unique_ptr<DIR, CloseDir> dir(::opendir(dir_.c_str()));
  if (!dir) return out;
  while (const dirent* d = ::readdir(dir.get())) {
    std::string name = d->d_name;
    if (name.size() <= std::strlen(kSuffix) ||
        name.compare(name.size() - std::strlen(kSuffix), std::string::npos, kSuffix) != 0)
      continue;
    if (name == except) continue;
    if (auto record = read_file(dir_ + "/" + name)) out.push_back(std::move(*record));
  }
  return out;
}

std::vector<std::string> OwnershipStore::sources() const {
  std::vector<std::string> out;
  for (auto& record : all()) out.push_back(std::move(record.first));
  return out;
}

OwnedEntries OwnershipStore::others(const std::string& source) const {
  OwnedEntries merged;
  // The source's own record is not read: a large one costs as much to
  // parse as a compile of the file.
  for (auto& [other, entries] : all(file_name(source))) {
    if (other == source) continue;
    merged.kernel.insert(merged.kernel.end(), entries.kernel.begin(), entries.kernel.end());
    for (auto& e : entries.entries) merged.add(std::move(e));
  }
  return merged;
}

std::unique_ptr<RecordWriter> OwnershipStore::begin_save(
    const std::string& source, const std::vector<OwnedKernelEntry>& kernel) {
  std::unique_ptr<RecordWriter> writer;
  if (make_directories(dir_)) writer = RecordWriter::open(path_of(source));
  if (!writer) {
    diag_.note("cannot write " + path_of(source) + ": " + std::strerror(errno) +
               "; the next reload cannot remove what this one added");
    return nullptr;
  }
  serialize_kernel_part(source, kernel, [&](std::string_view piece) { writer->write(piece); });
  writer->start_writeback();
  return writer;
}

bool OwnershipStore::finish_save(RecordWriter& writer, const std::vector<OwnedEntry>& entries) {
  serialize_entries(entries, [&](std::string_view piece) { writer.write(piece); });
  if (writer.commit()) return true;
  diag_.note("cannot write " + writer.path() + ": " + std::strerror(errno) +
             "; the next reload cannot remove what this one added");
  return false;
}

bool OwnershipStore::save(const std::string& source, const OwnedEntries& entries) {
  if (entries.empty()) {
    remove(source);
    return true;
  }
  std::unique_ptr<RecordWriter> writer = begin_save(source, entries.kernel);
  return writer && finish_save(*writer, entries.entries);
}

namespace {

constexpr const char* kLoadedSuffix = ".loaded";

std::string loaded_path(const std::string& record_path) {
  return record_path.substr(0, record_path.size() - std::strlen(kSuffix)) + kLoadedSuffix;
}

}  // namespace

void OwnershipStore::remove(const std::string& source) {
  ::unlink(path_of(source).c_str());
  ::unlink(loaded_path(path_of(source)).c_str());
}

// A small file that holds the source; its time is the load's.
void OwnershipStore::mark_loaded(const std::string& source) {
  if (!make_directories(dir_)) return;
  const std::string path = loaded_path(path_of(source));
  const std::string temporary = path + ".new";
  UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd || ::write(fd.get(), source.data(), source.size()) != static_cast<ssize_t>(source.size()) ||
      ::rename(temporary.c_str(), path.c_str()) != 0)
    ::unlink(temporary.c_str());
}

std::vector<std::pair<std::string, std::chrono::system_clock::time_point>>
OwnershipStore::load_times() const {
  std::vector<std::pair<std::string, std::chrono::system_clock::time_point>> out;
  struct CloseDir {
    void operator()(DIR* d) const { ::closedir(d); }
  };
  std::unique_ptr<DIR, CloseDir> dir(::opendir(dir_.c_str()));
  if (!dir) return out;
  const std::size_t suffix = std::strlen(kLoadedSuffix);
  while (const dirent* d = ::readdir(dir.get())) {
    const std::string name = d->d_name;
    if (name.size() <= suffix || name.compare(name.size() - suffix, suffix, kLoadedSuffix) != 0)
      continue;
    const std::string path = dir_ + "/" + name;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0) continue;
    std::string source(static_cast<std::size_t>(std::min<off_t>(st.st_size, 4096)), '\0');
    if (::read(fd.get(), source.data(), source.size()) != static_cast<ssize_t>(source.size()))
      continue;
    const auto since_epoch = std::chrono::seconds(st.st_mtim.tv_sec) +
                             std::chrono::nanoseconds(st.st_mtim.tv_nsec);
    out.emplace_back(std::move(source),
                     std::chrono::system_clock::time_point(
                         std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch)));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace ipsecctl::engine
