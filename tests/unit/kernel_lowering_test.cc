// OpenBSD flows and SAs in kernel terms, and the XFRM codec's round trip.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <linux/xfrm.h>

#include <cstring>

#include "backends/kernel/kernel_show.h"
#include "backends/kernel/lower_plan.h"
#include "backends/xfrm/xfrm_codec.h"
#include "compiler/rule_text.h"
#include "tests/unit/compile_helper.h"

namespace ipsecctl::backends {
namespace {

using compiler::EncAlg;
using testing::compile;

std::vector<KernelPolicy> lower_all(const compiler::Plan& plan) {
  PlanLowering lowering(plan);
  std::vector<KernelPolicy> all;
  std::array<KernelPolicy, 2> out;
  for (const auto& flow : plan.flows) {
    EXPECT_FALSE(lowering.check_flow(flow));
    std::size_t n = lowering.lower_flow(flow, out);
    for (std::size_t i = 0; i < n; ++i) all.push_back(out[i]);
  }
  return all;
}

TEST(KernelLowering, GatewayFlowIsOutInAndFwdTunnel) {
  auto c = compile("flow esp from 10.1.0.0/16 to 10.2.0.0/16 peer 198.51.100.1\n");
  auto policies = lower_all(c.plan);
  ASSERT_EQ(policies.size(), 3u);
  EXPECT_EQ(policies[0].dir, PolicyDir::Out);
  EXPECT_EQ(policies[1].dir, PolicyDir::In);
  EXPECT_EQ(policies[2].dir, PolicyDir::Fwd);
  ASSERT_EQ(policies[0].templates.size(), 1u);
  EXPECT_EQ(policies[0].templates[0].mode, TunnelMode::Tunnel);
  EXPECT_EQ(compiler::format_address(policies[0].templates[0].dst), "198.51.100.1");
  EXPECT_EQ(compiler::format_address(policies[1].templates[0].src), "198.51.100.1");
  EXPECT_EQ(policies[0].templates[0].ipproto, 50);
}

TEST(KernelLowering, HostToHostWithoutTunnelSaIsTransportWithoutFwd) {
  auto c = compile("flow esp proto gre from 192.0.2.1 to 198.51.100.2\n");
  auto policies = lower_all(c.plan);
  ASSERT_EQ(policies.size(), 2u);
  EXPECT_EQ(policies[0].templates[0].mode, TunnelMode::Transport);
  EXPECT_EQ(policies[0].selector.proto, 47);
}

TEST(KernelLowering, ModeFollowsTheManualSaTowardsThePeer) {
  auto c = compile(
      "flow esp from 192.0.2.1 to 198.51.100.2\n"
      "esp tunnel from 192.0.2.1 to 198.51.100.2 spi 0x1000:0x1001 "
      "authkey 0x" + std::string(64, 'a') + ":0x" + std::string(64, 'b') +
      " enckey 0x" + std::string(32, 'c') + ":0x" + std::string(32, 'd') + "\n");
  ASSERT_EQ(c.errors, 0) << c.err;
  auto policies = lower_all(c.plan);
  ASSERT_EQ(policies.size(), 3u);  // tunnel: in gets its fwd twin
  EXPECT_EQ(policies[0].templates[0].mode, TunnelMode::Tunnel);
  EXPECT_EQ(policies[1].templates[0].mode, TunnelMode::Tunnel);
}

TEST(KernelLowering, MoreSpecificSelectorsGetLowerPriorityValues) {
  auto c = compile(
      "flow esp out from 10.0.0.0/8 to 10.0.0.0/8 type deny\n"
      "flow esp out from 10.1.0.0/16 to 10.2.0.0/16 type bypass\n"
      "flow esp out proto tcp from 10.1.0.0/16 to 10.2.0.0/16 port 80 type bypass\n");
  auto policies = lower_all(c.plan);
  ASSERT_EQ(policies.size(), 3u);
  EXPECT_GT(policies[0].priority, policies[1].priority);
  EXPECT_GT(policies[1].priority, policies[2].priority);
  EXPECT_TRUE(policies[0].block);
  EXPECT_TRUE(policies[1].templates.empty());
}

TEST(KernelLowering, AcquireAndTcpmd5AreRefused) {
  auto c = compile("flow esp out from 10.0.0.0/8 to 10.1.0.0/16 peer 192.0.2.1 type acquire\n"
                   "tcpmd5 from 192.0.2.1 to 192.0.2.2 spi 0x1000 authkey 0xdeadbeef\n");
  ASSERT_EQ(c.errors, 0) << c.err;
  PlanLowering lowering(c.plan);
  EXPECT_TRUE(lowering.check_flow(c.plan.flows[0]));
  EXPECT_TRUE(lowering.check_sa(c.plan.sas[0]));
}

TEST(KernelLowering, SaAlgorithmsAndTruncation) {
  auto c = compile("esp tunnel from 192.0.2.1 to 192.0.2.2 spi 0x1000 auth hmac-sha2-512 "
                   "enc aes authkey 0x" + std::string(128, 'a') + " enckey 0x" +
                   std::string(64, 'b') + "\n");
  ASSERT_EQ(c.errors, 0) << c.err;
  PlanLowering lowering(c.plan);
  KernelState s = lowering.lower_sa(c.plan.sas[0]);
  EXPECT_EQ(s.auth_trunc_bits, 256u);
  EXPECT_EQ(*s.enc, EncAlg::Aes256);  // "aes" with a 32-byte key
  EXPECT_STREQ(xfrm::kernel_enc_name(*s.enc), "cbc(aes)");
  EXPECT_STREQ(xfrm::kernel_auth_name(*s.auth), "hmac(sha512)");
  EXPECT_TRUE(s.any_inner_family);
}

TEST(KernelLowering, CanonicalCipherByKeyLength) {
  EXPECT_EQ(canonical_enc(EncAlg::Aes128, 16), EncAlg::Aes);
  EXPECT_EQ(canonical_enc(EncAlg::Aes, 24), EncAlg::Aes192);
  EXPECT_EQ(canonical_enc(EncAlg::Aes256Gcm, 20), EncAlg::Aes128Gcm);
  EXPECT_EQ(canonical_enc(EncAlg::AesCtr, 36), EncAlg::Aes256Ctr);
  EXPECT_EQ(xfrm::enc_from_kernel("rfc4106(gcm(aes))", 36), EncAlg::Aes256Gcm);
  EXPECT_EQ(xfrm::enc_from_kernel("rfc3686(ctr(aes))", 20), EncAlg::AesCtr);
  EXPECT_FALSE(xfrm::enc_from_kernel("cbc(serpent)", 16));
}

const nlmsghdr& header_of(const std::vector<std::uint8_t>& bytes) {
  return *reinterpret_cast<const nlmsghdr*>(static_cast<const void*>(bytes.data()));
}

TEST(XfrmCodec, PolicyRoundTrip) {
  auto c = compile("flow ah in proto udp from 10.2.0.0/16 port 53 to 10.1.0.0/16 "
                   "local 192.0.2.1 peer 198.51.100.1 type use\n");
  auto policies = lower_all(c.plan);
  ASSERT_EQ(policies.size(), 2u);
  std::vector<std::uint8_t> bytes;
  xfrm::encode_policy_change(bytes, ChangeKind::AddPolicy, policies[0], 7);
  ASSERT_EQ(bytes.size() % 4, 0u);
  const nlmsghdr& h = header_of(bytes);
  EXPECT_EQ(h.nlmsg_len, bytes.size());
  EXPECT_EQ(h.nlmsg_type, XFRM_MSG_NEWPOLICY);
  EXPECT_EQ(h.nlmsg_seq, 7u);
  EXPECT_EQ(h.nlmsg_flags, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL);
  auto back = xfrm::decode_policy(h);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->selector, policies[0].selector);
  EXPECT_EQ(back->templates, policies[0].templates);
  EXPECT_EQ(policy_identity(*back), policy_identity(policies[0]));
  EXPECT_EQ(policy_content(*back), policy_content(policies[0]));
  auto flow = flow_from_policy(*back);
  ASSERT_TRUE(flow);
  testing::FakeResolver resolver;
  EXPECT_EQ(compiler::format_flow(*flow, resolver), compiler::format_flow(c.plan.flows[0], resolver));
}

TEST(XfrmCodec, StateRoundTripKeepsKeysAndAlgorithms) {
  auto c = compile("esp transport from 2001:db8::1 to 2001:db8::2 spi 0x2000 "
                   "auth hmac-sha1 enc 3des authkey 0x" + std::string(40, '1') + " enckey 0x" +
                   std::string(48, '2') + "\n");
  ASSERT_EQ(c.errors, 0) << c.err;
  PlanLowering lowering(c.plan);
  KernelState s = lowering.lower_sa(c.plan.sas[0]);
  std::vector<std::uint8_t> bytes;
  xfrm::encode_state_change(bytes, ChangeKind::AddState, s, 1);
  auto back = xfrm::decode_state(header_of(bytes));
  ASSERT_TRUE(back);
  EXPECT_EQ(state_identity(*back), state_identity(s));
  EXPECT_EQ(state_content(*back), state_content(s));
  EXPECT_EQ(back->auth_trunc_bits, 96u);
  EXPECT_EQ(compiler::format_sa(sa_from_state(*back), true),
            compiler::format_sa(c.plan.sas[0], true));
}

TEST(XfrmCodec, DeleteCarriesOnlyTheIdentity) {
  KernelState s;
  s.dst.family = Family::Inet;
  s.dst.bytes = {192, 0, 2, 2};
  s.spi = 0x1234;
  std::vector<std::uint8_t> bytes;
  xfrm::encode_state_change(bytes, ChangeKind::DeleteState, s, 3);
  const nlmsghdr& h = header_of(bytes);
  EXPECT_EQ(h.nlmsg_type, XFRM_MSG_DELSA);
  EXPECT_EQ(h.nlmsg_len, NLMSG_LENGTH(sizeof(xfrm_usersa_id)));
  xfrm_usersa_id id;
  std::memcpy(&id, bytes.data() + NLMSG_HDRLEN, sizeof id);
  EXPECT_EQ(id.spi, htonl(0x1234));
  EXPECT_EQ(id.proto, 50);
}

}  // namespace
}  // namespace ipsecctl::backends
