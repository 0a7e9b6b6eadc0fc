// The one owner of a stdio stream: closed when it goes, never twice, and
// never standard input (which the configuration may be read from).
#pragma once

#include <cstdio>
#include <memory>

namespace ipsecctl {

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != nullptr && f != stdin) std::fclose(f);
  }
};
using UniqueFile = std::unique_ptr<std::FILE, FileCloser>;

// fopen(), owned; empty when the file cannot be opened (errno says why).
inline UniqueFile open_file(const char* path, const char* mode) {
  return UniqueFile(std::fopen(path, mode));
}

}  // namespace ipsecctl
