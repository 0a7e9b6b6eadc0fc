// XFRM netlink messages <-> the wire-neutral kernel objects.
//
// Algorithms (OpenBSD name -> Linux crypto name, ICV/truncation):
//   hmac-md5 hmac(md5)/96   hmac-sha1 hmac(sha1)/96   hmac-ripemd160
//   hmac(rmd160)/96   hmac-sha2-256 hmac(sha256)/128   -384 hmac(sha384)/192
//   -512 hmac(sha512)/256;   3des-cbc cbc(des3_ede)   aes* cbc(aes)
//   aes*-ctr rfc3686(ctr(aes))   aes-*-gcm rfc4106(gcm(aes)) ICV 128
//   aes-*-gmac rfc4543(gcm(aes)) ICV 128   chacha20-poly1305
//   rfc7539esp(chacha20,poly1305) ICV 128   blowfish cbc(blowfish)
//   cast128 cbc(cast5)   null ecb(cipher_null)   deflate deflate.
// Keys are passed as written: CTR/GCM/GMAC/ChaCha keys end in the 4-byte
// nonce salt, which is how both OpenBSD and Linux expect them.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backends/kernel/kernel_channel.h"
#include "backends/kernel_objects.h"

namespace ipsecctl::backends::xfrm {

const char* kernel_auth_name(compiler::AuthAlg alg);
const char* kernel_enc_name(compiler::EncAlg alg);
std::optional<compiler::AuthAlg> auth_from_kernel(std::string_view name);
// The key length tells aes-128 from aes-256.
std::optional<compiler::EncAlg> enc_from_kernel(std::string_view name, std::size_t key_bytes);

// Each appends one netlink message (4-byte aligned) to `out`.
void encode_policy_change(std::vector<std::uint8_t>& out, ChangeKind kind,
                          const KernelPolicy& policy, std::uint32_t seq);
void encode_state_change(std::vector<std::uint8_t>& out, ChangeKind kind,
                         const KernelState& state, std::uint32_t seq);
// XFRM_MSG_GETPOLICY for the policy with the identity of `policy`.
void encode_policy_get(std::vector<std::uint8_t>& out, const KernelPolicy& policy,
                       std::uint32_t seq);
void encode_request(std::vector<std::uint8_t>& out, std::uint16_t type, std::uint16_t flags,
                    std::uint32_t seq, const void* payload = nullptr, std::size_t size = 0);

// Decoders accept the message types that carry a whole entry (dumps and
// notifications); they return nullopt for entries of no interest
// (socket policies, unknown families).
std::optional<KernelPolicy> decode_policy(const nlmsghdr& message);
std::optional<KernelState> decode_state(const nlmsghdr& message);
// For -m: a name and the entry inside any XFRM notification.
MonitorEvent decode_event(const nlmsghdr& message);

}  // namespace ipsecctl::backends::xfrm
