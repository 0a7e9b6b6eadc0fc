// The isakmpd FIFO commands for an IKE rule. This is the only place that
// writes them: `-nv` prints this text and the isakmpd backend sends the
// very same bytes. It spells an IkePolicy (compiler/ike_policy.h), which
// decided the algorithms, defaults and names.
#pragma once

#include <optional>
#include <string>

#include "compiler/ike_policy.h"
#include "compiler/plan.h"

namespace ipsecctl::compiler {

struct IsakmpdCommands {
  std::string text;                  // commands produced (all, or up to the refusal)
  std::optional<std::string> error;  // e.g. "illegal transform aes"
};

IsakmpdCommands isakmpd_add_commands(const IkeEntry& rule);
IsakmpdCommands isakmpd_delete_commands(const IkeEntry& rule);

}  // namespace ipsecctl::compiler
