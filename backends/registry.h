// Every backend this build has, in one list: its name (what --kernel and
// --ike take), a line of help, how to find out whether it is there, and
// how to make it. Options, the automatic choice of an IKE daemon and the
// "looked for" messages all come from here, so adding a backend is adding
// a row.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "common/diagnostics.h"
#include "compiler/resolver.h"

namespace ipsecctl::backends {

// Where the IKE daemons listen (--vici, -i).
struct DaemonEndpoints {
  std::string vici = "/var/run/charon.vici";
  std::string isakmpd_fifo = "/var/run/isakmpd.fifo";
  // Where the keys of rules without psk are, in isakmpd's layout (--keys):
  // charon is given them; isakmpd reads its own.
  std::string key_directory = "/etc/isakmpd";
};

struct KernelInterfaceInfo {
  std::string name;
  std::string help;
  // Throws KernelError when the interface cannot be opened.
  std::function<std::unique_ptr<KernelBackend>(Diagnostics&, compiler::Resolver&)> make;
};

struct IkeDaemonInfo {
  std::string name;
  std::string help;
  // Is the daemon there to talk to? The automatic choice takes the first
  // that answers, in this list's order.
  std::function<bool(const DaemonEndpoints&)> present;
  // What to tell a user who expected it ("charon does not answer on ...").
  std::function<std::string(const DaemonEndpoints&)> absent_reason;
  std::function<std::unique_ptr<IkeBackend>(const DaemonEndpoints&, Diagnostics&)> make;
};

const std::vector<KernelInterfaceInfo>& kernel_interfaces();
const std::vector<IkeDaemonInfo>& ike_daemons();

const KernelInterfaceInfo* find_kernel_interface(const std::string& name);
const IkeDaemonInfo* find_ike_daemon(const std::string& name);
// "xfrm, pfkey"
std::string kernel_interface_names();
std::string ike_daemon_names();

}  // namespace ipsecctl::backends
