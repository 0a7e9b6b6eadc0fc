#include "parser/diagnostics.h"

namespace ipsecctl {

std::uint32_t Diagnostics::intern_file(const std::string& name) {
  for (std::uint32_t i = 0; i < files_.size(); ++i)
    if (files_[i] == name) return i;
  files_.push_back(name);
  return static_cast<std::uint32_t>(files_.size() - 1);
}

std::string Diagnostics::describe(SourceLocation where) const {
  return file_name(where.file) + ":" + std::to_string(where.line);
}

void Diagnostics::error_at(SourceLocation where, const std::string& message) {
  ++errors_;
  std::fprintf(sink_, "%s: %u: %s\n", file_name(where.file).c_str(), where.line,
               message.c_str());
}

void Diagnostics::error(const std::string& message) { error_at(current_, message); }

void Diagnostics::warning(const std::string& message) {
  std::fprintf(sink_, "%s: %u: %s\n", file_name(current_.file).c_str(), current_.line,
               message.c_str());
}

void Diagnostics::note(const std::string& message) {
  std::fprintf(sink_, "ipsecctl: %s\n", message.c_str());
}

}  // namespace ipsecctl
