// A quick first pass over a configuration: is every statement well formed,
// and which kinds of rules does it hold? Nothing is resolved, looked up or
// compiled, and nothing is printed.
//
// It lets a large load start sending to the kernel while the real compile
// is still running (engine/session): a file this pass finds clean can only
// fail later on meaning (an address out of range, a protocol unknown), and
// then the load is undone; a syntax error never touches the kernel,
// because then the load takes the ordinary path, which compiles first.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ipsecctl::compiler {

struct SyntaxShape {
  bool clean = false;  // read to the end with no error of any kind
  std::size_t flow_rules = 0;
  std::size_t sa_rules = 0;  // manual SAs, tcpmd5 and bundles
  std::size_t ike_rules = 0;
  std::size_t pieces = 1;  // how many pieces the answer came from (1: read whole)
};

// `path` must be a file that can be read twice (not standard input).
// With `flows_only`, the pass stops at the first rule that is not a flow
// (the shape is then not clean): the caller only wants files of flows.
//
// A large file is read by up to `threads` threads at once, in pieces
// split at line ends. A piece asks the pieces before it for the macros it
// does not define itself (waiting for them to be read), and every piece
// but the last must end exactly between two statements, which its scanner
// confirms; then each piece was read as a whole-file reading would have
// read it, so the answer is the same. When a split fell inside a
// statement (a continued line, a quoted string or comment running on), the
// file is read again whole.
SyntaxShape check_syntax(const std::string& path, const std::vector<std::string>& defines,
                         bool flows_only = false, unsigned threads = 1);

}  // namespace ipsecctl::compiler
