// Feeds a kernel load each flow the compiler adds, once the first pass
// (engine/first_pass) has said the file may stream: clean, of flow rules
// only, and many of them. Until then the flows only gather in the plan;
// the first to arrive after the answer brings them all. The kernel load
// is begun only then, so that a file that does not stream never opens
// the kernel early, and a kernel that cannot be reached is reported
// after the file's own errors.
#pragma once

#include <cstddef>
#include <functional>

#include "backends/backend.h"
#include "compiler/rule_compiler.h"
#include "engine/first_pass.h"

namespace ipsecctl::engine {

class GatedStreamer final : public compiler::RuleListener {
 public:
  // Begins the kernel load, sized for this many flow rules; nullptr when
  // the kernel cannot be reached (not reported yet).
  using Begin = std::function<backends::KernelLoad*(std::size_t expected_flows)>;

  GatedStreamer(FirstPass& first_pass, const compiler::Plan& plan, std::size_t least_flows,
                Begin begin)
      : first_pass_(first_pass), plan_(plan), least_flows_(least_flows), begin_(std::move(begin)) {}

  void macro_defined(const std::string&, const std::string&) override {}
  void rule_added(const compiler::Plan& plan, compiler::RuleRef rule) override;

  // After the compile: waits for the first pass if it is still reading,
  // and hands over what has not gone yet.
  void settle();

 private:
  void open();
  void catch_up(std::size_t end);

  FirstPass& first_pass_;
  const compiler::Plan& plan_;
  const std::size_t least_flows_;
  Begin begin_;
  enum class State { Waiting, Streaming, Declined, KernelFailed };
  backends::KernelLoad* load_ = nullptr;
  State state_ = State::Waiting;
  std::size_t next_ = 0;  // the first flow not handed over yet
};

}  // namespace ipsecctl::engine
