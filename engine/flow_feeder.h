// Feeds a kernel load each flow the compiler adds, as it is added: a large
// first load of flows, once the first pass found the whole file clean
// (engine/load_run), goes to the kernel while the rest of the file is
// still being compiled.
#pragma once

#include <cstddef>

#include "backends/backend.h"
#include "compiler/rule_compiler.h"

namespace ipsecctl::engine {

class FlowFeeder final : public compiler::RuleListener {
 public:
  explicit FlowFeeder(backends::KernelLoad& load) : load_(load) {}

  void macro_defined(const std::string&, const std::string&) override {}
  void rule_added(const compiler::Plan&, compiler::RuleRef rule) override {
    if (rule.kind != compiler::RuleKind::Flow) return;
    // Every flow up to this one, in the order the plan holds them.
    for (; next_ <= static_cast<std::size_t>(rule.index); ++next_)
      load_.add_flow(static_cast<std::uint32_t>(next_));
  }

 private:
  backends::KernelLoad& load_;
  std::size_t next_ = 0;  // the first flow not fed yet
};

}  // namespace ipsecctl::engine
