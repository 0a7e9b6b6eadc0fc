#include "engine/first_pass.h"

namespace ipsecctl::engine {

FirstPass::FirstPass(const std::string& path, const std::vector<std::string>& defines)
    : thread_([this, path, defines] {
        try {
          shape_ = compiler::check_syntax(path, defines, true);
        } catch (...) {
          // Out of memory, say: no answer is a "no", and the compile,
          // which reads the same file, reports what is wrong.
          shape_ = compiler::SyntaxShape{};
        }
        done_.store(true, std::memory_order_release);
      }) {}

FirstPass::~FirstPass() {
  if (thread_.joinable()) thread_.join();
}

const compiler::SyntaxShape& FirstPass::shape() {
  if (thread_.joinable()) thread_.join();
  return shape_;
}

}  // namespace ipsecctl::engine
