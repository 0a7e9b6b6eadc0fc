// What a backend holds, as data: the kernel's SPD and SAD, the IKE SAs of
// a daemon, and the events the kernel announces. Backends return these;
// output/ renders them (OpenBSD's text, JSON), so a new format needs no
// change in any backend.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backends/kernel_objects.h"

namespace ipsecctl::backends {

struct KernelSnapshot {
  std::vector<KernelPolicy> policies;
  std::vector<KernelState> states;
};

// A child SA of an IKE SA, as the daemon reports it.
struct IkeChildSa {
  std::string name;
  std::string state;     // INSTALLED, REKEYING, ...
  std::string mode;      // TUNNEL, TRANSPORT
  std::string protocol;  // ESP, AH
  std::uint32_t reqid = 0;  // the kernel policies' and SAs' request id
  std::string encryption, integrity, dh_group;  // algorithm and key size as named
  std::string spi_in, spi_out;                  // hex
  std::uint64_t bytes_in = 0, bytes_out = 0, packets_in = 0, packets_out = 0;
  std::uint64_t install_time = 0;  // seconds since installed
  std::uint64_t rekey_time = 0;    // seconds until rekeying
  std::uint64_t life_time = 0;     // seconds until it expires
  std::vector<std::string> local_ts, remote_ts;
};

struct IkeSa {
  std::string name;  // the connection (phase 1) name
  std::string unique_id;
  std::string state;  // ESTABLISHED, CONNECTING, ...
  std::string version;
  std::string local_host, remote_host, local_id, remote_id;
  std::string auth;  // how the peer is checked: "psk", "pubkey", ... ("" unknown)
  std::string encryption, integrity, prf, dh_group;
  std::uint64_t established = 0;  // seconds
  std::uint64_t rekey_time = 0, reauth_time = 0;
  std::vector<IkeChildSa> children;
};

struct IkeSnapshot {
  std::string daemon;  // "charon"
  std::vector<std::string> connections;  // every connection loaded, up or not
  std::vector<IkeSa> sas;
};

// Something the kernel announced while monitoring (-m).
struct MonitorEvent {
  std::chrono::system_clock::time_point when;
  std::string name;  // "sadb_add", "sadb_acquire", "sadb_x_spddelete", ...
  std::optional<KernelPolicy> policy;
  std::optional<KernelState> state;
  std::string detail;             // anything else worth a line
  std::vector<std::uint8_t> raw;  // the message as received (-v)
};

}  // namespace ipsecctl::backends
