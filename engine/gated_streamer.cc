#include "engine/gated_streamer.h"

namespace ipsecctl::engine {

void GatedStreamer::rule_added(const compiler::Plan&, compiler::RuleRef rule) {
  if (state_ == State::Waiting) {
    if (!first_pass_.done()) return;
    open();
  }
  if (state_ == State::Streaming && rule.kind == compiler::RuleKind::Flow)
    catch_up(static_cast<std::size_t>(rule.index) + 1);
}

void GatedStreamer::settle() {
  if (state_ == State::Waiting) open();
  if (state_ == State::Streaming) catch_up(plan_.flows.size());
}

void GatedStreamer::open() {
  const compiler::SyntaxShape& shape = first_pass_.shape();
  state_ = State::Declined;
  if (!shape.clean || shape.ike_rules != 0 || shape.sa_rules != 0 ||
      shape.flow_rules < least_flows_)
    return;
  load_ = begin_(shape.flow_rules);
  if (load_ == nullptr) {
    state_ = State::KernelFailed;
    return;
  }
  load_->learn_kernel();
  load_->send_early();
  state_ = State::Streaming;
}

void GatedStreamer::catch_up(std::size_t end) {
  for (; next_ < end; ++next_) load_->add_flow(static_cast<std::uint32_t>(next_));
}

}  // namespace ipsecctl::engine
