// The isakmpd FIFO commands for an IKE rule. This is the only place that
// writes them: `-nv` prints this text and the isakmpd backend sends the
// very same bytes.
#pragma once

#include <optional>
#include <string>

#include "compiler/plan.h"

namespace ipsecctl::compiler {

struct IsakmpdCommands {
  std::string text;                  // commands produced (all, or up to the error)
  std::optional<std::string> error;  // e.g. "illegal transform aes"
};

IsakmpdCommands isakmpd_add_commands(const IkeEntry& rule);
IsakmpdCommands isakmpd_delete_commands(const IkeEntry& rule);

// Section names derived from the rule (also used by other IKE backends).
struct IsakmpdNames {
  std::string phase1;  // peer-<peer>[-local-<local>] or peer-default
  std::string local_id;
  std::string remote_id;
  std::string nat_id;  // empty without a NAT host
  std::string phase2;  // <local_id>-<remote_id>
};
IsakmpdNames isakmpd_names(const IkeEntry& rule);

}  // namespace ipsecctl::compiler
