#include "compiler/syntax_check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <memory>
#include <thread>

#include "compiler/plan.h"
#include "compiler/transforms.h"
#include "parser/macro_table.h"
#include "parser/parse_driver.h"
#include "parser/semantics.h"

namespace ipsecctl::compiler {

namespace {

// Thrown to stop reading at the first rule that is not a flow.
struct NotOnlyFlows {};

// Says yes to everything the grammar asks, and counts the statements.
class ShapeOnly final : public parser::Semantics {
 public:
  ShapeOnly(SyntaxShape& shape, bool flows_only) : shape_(shape), flows_only_(flows_only) {}

  parser::HostRef host(const std::string&) override { return host_; }
  parser::HostRef any_host() override { return host_; }
  bool attach_nat(const parser::HostRef&, const parser::HostRef&) override { return true; }
  bool check_destination(const parser::HostList&) override { return true; }
  std::optional<int> protocol(const std::string&) override { return 0; }
  std::optional<int> protocol(long long) override { return 0; }
  std::optional<std::uint16_t> port(const std::string&) override { return 1; }
  std::optional<std::uint16_t> port(long long) override { return 1; }
  std::optional<parser::SpiClause> spi(const std::string&) override { return parser::SpiClause{}; }
  std::optional<parser::SpiClause> spi(long long) override { return parser::SpiClause{}; }
  parser::TransformsRef new_transforms() override { return transforms_; }
  void add_transform(const parser::TransformsRef&, parser::TransformKind,
                     const std::string&) override {}
  parser::KeysRef key_literal(const std::string&) override { return keys_; }
  parser::KeysRef key_file(const std::string&) override { return keys_; }
  long long lifetime(long long seconds) override { return seconds; }
  long long lifetime(const std::string&) override { return 0; }
  std::optional<unsigned> sec_interface(const std::string&) override { return 1; }
  bool id_takes_prefix(const std::string&) override { return true; }
  std::optional<std::string> id_with_prefix(const std::string& id, long long) override {
    return id;
  }

  bool macro_defined(const std::string&, const std::string&) override { return true; }
  bool ike_rule(parser::IkeRule&&) override {
    ++shape_.ike_rules;
    return not_a_flow();
  }
  bool flow_rule(parser::FlowRule&&) override {
    ++shape_.flow_rules;
    return true;
  }
  bool sa_rule(parser::SaRule&&) override {
    ++shape_.sa_rules;
    return not_a_flow();
  }
  bool tcpmd5_rule(parser::Tcpmd5Rule&&) override {
    ++shape_.sa_rules;
    return not_a_flow();
  }

 private:
  bool not_a_flow() const {
    if (flows_only_) throw NotOnlyFlows{};
    return true;
  }

  SyntaxShape& shape_;
  bool flows_only_;
  // One shared answer each: the grammar only stores and forwards them.
  parser::HostRef host_ = std::make_shared<HostNode>();
  parser::TransformsRef transforms_ = std::make_shared<TransformSet>();
  parser::KeysRef keys_ = std::make_shared<KeyPair>();
};

// One piece of the file, [first, first + count), and what reading it found.
struct Piece {
  std::uint64_t first = 0;
  std::uint64_t count = parser::Lexer::kWholeFile;
  SyntaxShape shape;
  bool other_rule = false;  // stopped at a rule that is not a flow
  bool ends_between_statements = false;
  parser::MacroTable macros;
  std::promise<void> read;
  std::shared_future<void> was_read = read.get_future().share();
};

void check_piece(const std::string& path, const std::vector<std::string>& defines,
                 bool flows_only, Piece& piece, Piece* before) {
  Diagnostics silent(nullptr);
  try {
    for (const auto& d : defines) piece.macros.define_from_command_line(d);
    if (before != nullptr)
      piece.macros.inherit([before](const std::string& name) {
        before->was_read.wait();
        return before->macros.lookup(name);
      });
    ShapeOnly semantics(piece.shape, flows_only);
    parser::ParseOptions options;
    options.check_file_secrecy = false;
    options.first_byte = piece.first;
    options.byte_count = piece.count;
    parser::ParseDriver driver(semantics, silent, piece.macros, options);
    const bool readable = driver.parse(path);
    silent.flush();
    piece.shape.clean = readable && silent.error_count() == 0;
    piece.ends_between_statements = driver.last_statement_end() == piece.count;
  } catch (const FatalError&) {
    piece.shape.clean = false;
  } catch (const NotOnlyFlows&) {
    piece.shape.clean = false;
    piece.other_rule = true;
  } catch (...) {
    // Out of memory, say: no answer is a "no", and the compile, which
    // reads the same file, reports what is wrong.
    piece.shape.clean = false;
  }
  piece.read.set_value();
}

// Where the pieces begin: after a line end near each share of the file
// (not one a backslash continues). Fewer pieces for a small file.
std::vector<std::uint64_t> piece_starts(const std::string& path, unsigned pieces) {
  constexpr std::uint64_t kLeastPiece = 256 * 1024;
  std::vector<std::uint64_t> starts{0};
  if (pieces < 2) return starts;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return starts;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return starts;
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  pieces = static_cast<unsigned>(std::min<std::uint64_t>(pieces, size / kLeastPiece));
  char window[4096];
  for (unsigned i = 1; i < pieces; ++i) {
    const std::uint64_t at = size / pieces * i;
    const ssize_t n = ::pread(fd, window, sizeof window, static_cast<off_t>(at - 1));
    for (ssize_t k = 1; k < n; ++k)
      if (window[k] == '\n' && window[k - 1] != '\\') {
        starts.push_back(at + static_cast<std::uint64_t>(k));
        break;
      }
  }
  ::close(fd);
  return starts;
}

}  // namespace

SyntaxShape check_syntax(const std::string& path, const std::vector<std::string>& defines,
                         bool flows_only, unsigned threads) {
  // A few pieces a thread, so that the threads end together.
  constexpr unsigned kPiecesPerThread = 4;
  const std::vector<std::uint64_t> starts =
      piece_starts(path, threads > 1 ? threads * kPiecesPerThread : 1);
  std::vector<std::unique_ptr<Piece>> read(starts.size());
  for (std::size_t i = 0; i < starts.size(); ++i) {
    read[i] = std::make_unique<Piece>();
    read[i]->first = starts[i];
    if (i + 1 < starts.size()) read[i]->count = starts[i + 1] - starts[i];
  }
  {
    // Each thread takes the next piece not taken yet, in order: a piece
    // that waits for an earlier one's macros waits for a piece already
    // being read.
    std::atomic<std::size_t> next{0};
    auto take_pieces = [&] {
      for (std::size_t i; (i = next.fetch_add(1)) < read.size();)
        check_piece(path, defines, flows_only, *read[i], i == 0 ? nullptr : read[i - 1].get());
    };
    std::vector<std::jthread> helpers;
    for (unsigned t = 1; t < threads && t < read.size(); ++t) helpers.emplace_back(take_pieces);
    take_pieces();
  }
  // "Clean" only when every piece is and each ended where the next began,
  // between statements. A piece that is not clean before the last, or
  // one that ended inside a statement, may owe that to where it was cut:
  // then the whole file is read again for the exact answer. A rule that
  // is not a flow is an answer at once (a "no" is never unsafe).
  SyntaxShape shape;
  shape.pieces = read.size();
  for (std::size_t i = 0; i < read.size(); ++i) {
    const Piece& piece = *read[i];
    const bool last = i + 1 == read.size();
    shape.flow_rules += piece.shape.flow_rules;
    shape.sa_rules += piece.shape.sa_rules;
    shape.ike_rules += piece.shape.ike_rules;
    if (piece.other_rule) return shape;
    if (!last && (!piece.shape.clean || !piece.ends_between_statements))
      return check_syntax(path, defines, flows_only, 1);
    if (last) shape.clean = piece.shape.clean;
  }
  return shape;
}

}  // namespace ipsecctl::compiler
