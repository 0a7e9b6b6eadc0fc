// PF_KEY v2 messages against byte layouts written down from RFC 2367 and
// the KAME/Linux SPD extensions: the header, 8-byte alignment, extension
// lengths in 64-bit words, network-order SPIs, sockaddrs padded to words.
#include <gtest/gtest.h>

#include <linux/pfkeyv2.h>

#include "backends/kernel/lower_plan.h"
#include "backends/pfkey/pfkey_codec.h"
#include "tests/unit/compile_helper.h"

namespace ipsecctl::backends::pfkey {
namespace {

using Bytes = std::vector<std::uint8_t>;

// Little helpers to write the expected bytes (x86: host order is little
// endian; SPIs, ports and addresses are in network order).
void le16(Bytes& b, unsigned v) { b.insert(b.end(), {std::uint8_t(v), std::uint8_t(v >> 8)}); }
void le32(Bytes& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(std::uint8_t(v >> (8 * i)));
}
void bytes(Bytes& b, std::initializer_list<unsigned> v) {
  for (unsigned x : v) b.push_back(std::uint8_t(x));
}
void zeros(Bytes& b, std::size_t n) { b.insert(b.end(), n, 0); }

void header(Bytes& b, std::uint8_t type, std::uint8_t satype, unsigned words, std::uint32_t seq,
            std::uint32_t pid) {
  bytes(b, {2, type, 0, satype});  // version 2, type, errno, satype
  le16(b, words);
  le16(b, 0);
  le32(b, seq);
  le32(b, pid);
}

// sadb_address (8) + sockaddr_in (16): 3 words.
void address4(Bytes& b, unsigned exttype, std::initializer_list<unsigned> ip, unsigned prefix,
              unsigned proto = 255, unsigned port = 0) {
  le16(b, 3);
  le16(b, exttype);
  bytes(b, {proto, prefix});
  le16(b, 0);
  bytes(b, {2, 0, port >> 8, port & 0xff});  // AF_INET, port (network order)
  bytes(b, ip);
  zeros(b, 8);
}

KernelState esp_state() {
  KernelState s;
  s.src.family = s.dst.family = Family::Inet;
  s.src.bytes = {192, 0, 2, 1};
  s.dst.bytes = {192, 0, 2, 2};
  s.src.prefixlen = s.dst.prefixlen = 32;
  s.ipproto = 50;
  s.spi = 0x1000;
  s.mode = TunnelMode::Tunnel;
  s.auth = compiler::AuthAlg::HmacSha1;
  s.auth_key.assign(20, 0xaa);
  s.auth_trunc_bits = 96;
  s.enc = compiler::EncAlg::Aes;
  s.enc_key.assign(16, 0xee);
  return s;
}

TEST(PfkeyCodec, AddEspTunnelSa) {
  Bytes got;
  encode_state_change(got, ChangeKind::AddState, esp_state(), 7, 42);
  Bytes want;
  header(want, SADB_ADD, SADB_SATYPE_ESP, 19, 7, 42);
  le16(want, 2);                                  // SA: 2 words
  le16(want, SADB_EXT_SA);
  bytes(want, {0, 0, 0x10, 0});                   // SPI 0x1000, network order
  bytes(want, {0, SADB_SASTATE_MATURE, SADB_AALG_SHA1HMAC, SADB_X_EALG_AESCBC});
  le32(want, 0);                                  // flags
  address4(want, SADB_EXT_ADDRESS_SRC, {192, 0, 2, 1}, 32);
  address4(want, SADB_EXT_ADDRESS_DST, {192, 0, 2, 2}, 32);
  le16(want, 4);                                  // 8 + 20 key bytes, padded to 32
  le16(want, SADB_EXT_KEY_AUTH);
  le16(want, 160);
  le16(want, 0);
  want.insert(want.end(), 20, 0xaa);
  zeros(want, 4);
  le16(want, 3);                                  // 8 + 16 key bytes
  le16(want, SADB_EXT_KEY_ENCRYPT);
  le16(want, 128);
  le16(want, 0);
  want.insert(want.end(), 16, 0xee);
  le16(want, 2);                                  // SA2: mode tunnel, reqid 0
  le16(want, SADB_X_EXT_SA2);
  bytes(want, {2, 0, 0, 0});
  le32(want, 0);
  le32(want, 0);
  EXPECT_EQ(got, want);
  ASSERT_EQ(got.size() % 8, 0u);

  auto back = decode_state(got.data(), got.size());
  ASSERT_TRUE(back);
  KernelState expected = esp_state();
  normalize(expected);
  EXPECT_EQ(state_identity(*back), state_identity(expected));
  EXPECT_EQ(state_content(*back), state_content(expected));
}

TEST(PfkeyCodec, DeleteCarriesSpiAndAddressesOnly) {
  Bytes got;
  encode_state_change(got, ChangeKind::DeleteState, esp_state(), 8, 42);
  Bytes want;
  header(want, SADB_DELETE, SADB_SATYPE_ESP, 10, 8, 42);
  le16(want, 2);
  le16(want, SADB_EXT_SA);
  bytes(want, {0, 0, 0x10, 0});
  zeros(want, 8);
  address4(want, SADB_EXT_ADDRESS_SRC, {192, 0, 2, 1}, 32);
  address4(want, SADB_EXT_ADDRESS_DST, {192, 0, 2, 2}, 32);
  EXPECT_EQ(got, want);
}

TEST(PfkeyCodec, BareMessagesAreTwoWords) {
  for (std::uint8_t type : {std::uint8_t{SADB_FLUSH}, std::uint8_t{SADB_DUMP},
                            std::uint8_t{SADB_X_SPDFLUSH}, std::uint8_t{SADB_X_SPDDUMP},
                            std::uint8_t{SADB_REGISTER}, std::uint8_t{SADB_X_PROMISC}}) {
    Bytes got;
    encode_bare(got, type, type == SADB_REGISTER ? SADB_SATYPE_ESP : 0, 3, 9);
    Bytes want;
    header(want, type, type == SADB_REGISTER ? SADB_SATYPE_ESP : 0, 2, 3, 9);
    EXPECT_EQ(got, want) << int(type);
    auto h = decode_header(got.data(), got.size());
    ASSERT_TRUE(h);
    EXPECT_EQ(h->type, type);
    EXPECT_EQ(h->seq, 3u);
  }
}

KernelPolicy tunnel_policy() {
  auto c = testing::compile("flow esp out proto tcp from 10.1.0.0/16 port 22 to 10.2.0.0/16 "
                            "peer 198.51.100.1\n");
  EXPECT_EQ(c.errors, 0) << c.err;
  PlanLowering lowering(c.plan);
  std::array<KernelPolicy, 2> out;
  lowering.lower_flow(c.plan.flows[0], out);
  return out[0];
}

TEST(PfkeyCodec, SpdAddWithTunnelRequest) {
  KernelPolicy p = tunnel_policy();
  Bytes got;
  encode_policy_change(got, ChangeKind::AddPolicy, p, 11, 42);
  Bytes want;
  header(want, SADB_X_SPDADD, 0, 16, 11, 42);
  address4(want, SADB_EXT_ADDRESS_SRC, {10, 1, 0, 0}, 16, 6, 22);
  address4(want, SADB_EXT_ADDRESS_DST, {10, 2, 0, 0}, 16, 6, 0);
  le16(want, 8);                                 // policy 16 + request 16 + 2 sockaddrs 32
  le16(want, SADB_X_EXT_POLICY);
  le16(want, 2);                                 // IPSEC_POLICY_IPSEC
  bytes(want, {2, 0});                           // outbound
  le32(want, 0);                                 // id
  le32(want, p.priority);
  le16(want, 48);                                // request length in bytes
  le16(want, 50);                                // esp
  bytes(want, {2, 2});                           // tunnel, require
  le16(want, 0);
  le32(want, 0);                                 // reqid
  le32(want, 0);
  bytes(want, {2, 0, 0, 0, 0, 0, 0, 0});         // tunnel source: any
  zeros(want, 8);
  bytes(want, {2, 0, 0, 0, 198, 51, 100, 1});    // tunnel destination: the peer
  zeros(want, 8);
  EXPECT_EQ(got, want);

  auto back = decode_policy(got.data(), got.size());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->selector, p.selector);
  EXPECT_EQ(policy_identity(*back), policy_identity(p));
  EXPECT_EQ(policy_content(*back), policy_content(p));
}

TEST(PfkeyCodec, SpdDeleteHasSelectorAndDirectionOnly) {
  KernelPolicy p = tunnel_policy();
  Bytes got;
  encode_policy_change(got, ChangeKind::DeletePolicy, p, 12, 42);
  Bytes want;
  header(want, SADB_X_SPDDELETE, 0, 10, 12, 42);
  address4(want, SADB_EXT_ADDRESS_SRC, {10, 1, 0, 0}, 16, 6, 22);
  address4(want, SADB_EXT_ADDRESS_DST, {10, 2, 0, 0}, 16, 6, 0);
  le16(want, 2);
  le16(want, SADB_X_EXT_POLICY);
  le16(want, 2);
  bytes(want, {2, 0});
  le32(want, 0);
  le32(want, p.priority);
  EXPECT_EQ(got, want);
}

TEST(PfkeyCodec, AcquireIsDecodedForMonitoring) {
  Bytes m;
  header(m, SADB_ACQUIRE, SADB_SATYPE_ESP, 10, 5, 0);
  address4(m, SADB_EXT_ADDRESS_SRC, {192, 0, 2, 1}, 32);
  address4(m, SADB_EXT_ADDRESS_DST, {192, 0, 2, 2}, 32);
  le16(m, 2);
  le16(m, SADB_X_EXT_POLICY);
  le16(m, 2);
  bytes(m, {2, 0});
  le32(m, 17);
  le32(m, 0);
  MonitorEvent e = decode_event(m.data(), m.size());
  EXPECT_EQ(e.name, "sadb_acquire");
  EXPECT_EQ(e.detail, "esp from 192.0.2.1 to 192.0.2.2 policy 17 seq 5");
}

TEST(PfkeyCodec, RejectsBadLengths) {
  Bytes m;
  header(m, SADB_ADD, SADB_SATYPE_ESP, 3, 1, 1);  // claims 3 words, has 2
  EXPECT_FALSE(decode_header(m.data(), m.size()));
}

TEST(PfkeyCodec, RefusesWhatAfKeyWouldWeaken) {
  KernelState s = esp_state();
  s.auth = compiler::AuthAlg::HmacSha2_256;
  EXPECT_TRUE(check_state(s));
  s = esp_state();
  s.auth.reset();
  s.enc = compiler::EncAlg::Aes256Gcm;
  EXPECT_TRUE(check_state(s));
  EXPECT_FALSE(check_state(esp_state()));
}

}  // namespace
}  // namespace ipsecctl::backends::pfkey
