#include "backends/registry.h"

#include "backends/isakmpd/isakmpd_fifo.h"
#include "backends/kernel/channel_backend.h"
#include "backends/pfkey/pfkey_channel.h"
#include "backends/vici/vici_backend.h"
#include "backends/xfrm/xfrm_channel.h"

namespace ipsecctl::backends {

const std::vector<KernelInterfaceInfo>& kernel_interfaces() {
  static const std::vector<KernelInterfaceInfo> list = {
      {"xfrm", "XFRM netlink, Linux's own IPsec interface (the default)",
       [](Diagnostics& d, compiler::Resolver& r) -> std::unique_ptr<KernelBackend> {
         return std::make_unique<ChannelBackend>(std::make_unique<xfrm::XfrmChannel>(), d, r);
       }},
      {"pfkey", "PF_KEY v2 (RFC 2367), through Linux's af_key",
       [](Diagnostics& d, compiler::Resolver& r) -> std::unique_ptr<KernelBackend> {
         return std::make_unique<ChannelBackend>(std::make_unique<pfkey::PfkeyChannel>(), d, r);
       }},
  };
  return list;
}

const std::vector<IkeDaemonInfo>& ike_daemons() {
  static const std::vector<IkeDaemonInfo> list = {
      {"vici", "strongSwan's charon, over its VICI socket (--vici PATH)",
       [](const DaemonEndpoints& e) { return ViciBackend::present(e.vici); },
       [](const DaemonEndpoints& e) {
         return "charon does not answer on " + e.vici + " (--vici PATH)";
       },
       [](const DaemonEndpoints& e, Diagnostics& d) -> std::unique_ptr<IkeBackend> {
         return std::make_unique<ViciBackend>(e.vici, e.key_directory, d);
       }},
      {"isakmpd", "OpenBSD's isakmpd, through its command fifo (-i FIFO)",
       [](const DaemonEndpoints& e) { return IsakmpdFifoBackend::present(e.isakmpd_fifo); },
       [](const DaemonEndpoints& e) {
         return "isakmpd's fifo " + e.isakmpd_fifo + " does not exist (-i FIFO)";
       },
       [](const DaemonEndpoints& e, Diagnostics& d) -> std::unique_ptr<IkeBackend> {
         return std::make_unique<IsakmpdFifoBackend>(e.isakmpd_fifo, d);
       }},
  };
  return list;
}

const KernelInterfaceInfo* find_kernel_interface(const std::string& name) {
  for (const auto& k : kernel_interfaces())
    if (k.name == name) return &k;
  return nullptr;
}

const IkeDaemonInfo* find_ike_daemon(const std::string& name) {
  for (const auto& d : ike_daemons())
    if (d.name == name) return &d;
  return nullptr;
}

std::string kernel_interface_names() {
  std::string s;
  for (const auto& k : kernel_interfaces()) s += (s.empty() ? "" : ", ") + k.name;
  return s;
}

std::string ike_daemon_names() {
  std::string s = "auto";
  for (const auto& d : ike_daemons()) s += ", " + d.name;
  return s;
}

}  // namespace ipsecctl::backends
