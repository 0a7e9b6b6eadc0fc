// PF_KEY v2 (RFC 2367) messages with the KAME/Linux policy extensions <->
// the wire-neutral kernel objects.
//
// Layout (all lengths in 64-bit words, every extension padded to 8 bytes):
//   sadb_msg     16 bytes: version 2, type, errno, satype, len, reserved,
//                seq, pid
//   then extensions, each starting with (len, exttype):
//   SA           sadb_sa 16: spi (network order), replay, state, auth,
//                encrypt (the compression algorithm for IPcomp), flags
//   ADDRESS_*    sadb_address 8 + sockaddr_in/in6, padded: proto (255 any),
//                prefix length; ports live in the sockaddr
//   KEY_*        sadb_key 8 + key bits, padded
//   X_SA2        mode, reqid
//   X_POLICY     type (discard/none/ipsec), dir (in 1, out 2, fwd 3), id,
//                priority, then sadb_x_ipsecrequest 16 each (+ the tunnel's
//                source and destination sockaddrs)
//   X_NAT_T_*    type 2 (ESP in UDP), source and destination port
//
// What af_key cannot say is refused before anything is sent: AEAD ciphers
// (AES-GCM/GMAC, ChaCha20-Poly1305) and hmac-sha2-256, which af_key
// truncates to 96 bits where OpenBSD and RFC 4868 use 128.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backends/kernel/kernel_channel.h"
#include "backends/kernel_objects.h"

namespace ipsecctl::backends::pfkey {

struct Header {
  std::uint8_t type = 0;
  std::uint8_t error = 0;
  std::uint8_t satype = 0;
  std::uint32_t seq = 0;
  std::uint32_t pid = 0;
};

// Why af_key cannot express this SA, or nullopt.
std::optional<std::string> check_state(const KernelState& state);
// What a PF_KEY dump of this entry will read back (no inner-family flag,
// af_key's truncation, transport templates without addresses).
void normalize(KernelState& state);
void normalize(KernelPolicy& policy);

// Encoders append one message.
void encode_state_change(std::vector<std::uint8_t>& out, ChangeKind kind,
                         const KernelState& state, std::uint32_t seq, std::uint32_t pid);
void encode_policy_change(std::vector<std::uint8_t>& out, ChangeKind kind,
                          const KernelPolicy& policy, std::uint32_t seq, std::uint32_t pid);
// A message of the header alone (FLUSH, DUMP, X_SPDFLUSH, X_SPDDUMP,
// REGISTER, X_PROMISC).
void encode_bare(std::vector<std::uint8_t>& out, std::uint8_t type, std::uint8_t satype,
                 std::uint32_t seq, std::uint32_t pid);

// nullopt when the bytes are not one whole message.
std::optional<Header> decode_header(const std::uint8_t* data, std::size_t size);
std::optional<KernelState> decode_state(const std::uint8_t* data, std::size_t size);
std::optional<KernelPolicy> decode_policy(const std::uint8_t* data, std::size_t size);
MonitorEvent decode_event(const std::uint8_t* data, std::size_t size);
const char* message_name(std::uint8_t type);

}  // namespace ipsecctl::backends::pfkey
