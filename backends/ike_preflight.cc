// What every IKE daemon on Linux needs before ike rules are loaded:
// `interface secN` routes the rule's traffic through the XFRM interface
// whose if_id is N, so that interface must exist (or the daemon's SAs and
// policies catch no traffic at all). The message gives the command that
// makes it.
#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/host_routes.h"
#include "backends/kernel/kernel_channel.h"
#include "backends/xfrm/xfrm_interfaces.h"

namespace ipsecctl::backends {

namespace {

std::string create_command(const compiler::IkeEntry& rule, const std::string& name, unsigned id) {
  // On the interface toward the peer.
  std::string dev = "<uplink>";
  if (rule.peer)
    if (auto source = source_address_for(rule.peer->address))
      if (auto name_of = interface_with_address(*source)) dev = *name_of;
  return "ip link add " + name + " type xfrm dev " + dev + " if_id " + std::to_string(id) +
         " && ip link set " + name + " up";
}

}  // namespace

bool IkeBackend::preflight(const compiler::Plan& plan) {
  Diagnostics& diag = diag_;
  std::vector<const compiler::IkeEntry*> wanting;
  for (const auto& rule : plan.ikes)
    if (rule.sec_interface && *rule.sec_interface != 0) wanting.push_back(&rule);
  if (wanting.empty()) return true;
  std::vector<xfrm::XfrmInterface> present;
  try {
    present = xfrm::xfrm_interfaces();
  } catch (const KernelError& error) {
    diag.failure(std::string("cannot list the XFRM interfaces: ") + error.what());
    return false;
  }
  bool ok = true;
  for (const compiler::IkeEntry* rule : wanting) {
    const unsigned id = *rule->sec_interface;
    const std::string name = "sec" + std::to_string(id);
    bool found = false;
    const xfrm::XfrmInterface* same_name = nullptr;
    for (const auto& i : present) {
      if (i.if_id == id) found = true;
      if (i.name == name) same_name = &i;
    }
    if (found) continue;
    const std::string create = create_command(*rule, name, id);
    // The command is part of the message: it is what the user needs.
    if (same_name != nullptr)
      diag.error_at(rule->origin,
                    name + " is an XFRM interface with if_id " + std::to_string(same_name->if_id) +
                        ", but `interface " + name + "` means if_id " + std::to_string(id) +
                        "; recreate it with: ip link del " + name + " && " + create);
    else
      diag.error_at(rule->origin, "no XFRM interface has if_id " + std::to_string(id) +
                                      " for `interface " + name + "`; create it with: " + create);
    ok = false;
  }
  if (!ok) diag.failure("nothing was loaded");
  return ok;
}

}  // namespace ipsecctl::backends
