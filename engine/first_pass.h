// The first pass of a streamed load (compiler/syntax_check), run in a
// thread of its own beside the compile, so that on two cores it costs no
// time: the compile keeps adding flows to the plan meanwhile, and nothing
// goes to the kernel until this pass has read the whole file and found it
// clean (engine/gated_streamer, driven by engine/load_run).
#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "compiler/syntax_check.h"

namespace ipsecctl::engine {

class FirstPass {
 public:
  // Starts reading `path` (a regular file: it is read twice).
  FirstPass(const std::string& path, const std::vector<std::string>& defines);
  ~FirstPass();  // waits for the thread
  FirstPass(const FirstPass&) = delete;
  FirstPass& operator=(const FirstPass&) = delete;

  // Whether the pass has reached its answer (does not wait).
  bool done() const { return done_.load(std::memory_order_acquire); }
  // The answer, waiting for it if need be.
  const compiler::SyntaxShape& shape();

 private:
  compiler::SyntaxShape shape_;
  std::atomic<bool> done_{false};
  std::thread thread_;  // last: it starts once the rest exists
};

}  // namespace ipsecctl::engine
