// Validation, defaults and expansion, with an injected resolver.
#include <gtest/gtest.h>

#include "compiler/isakmpd_commands.h"
#include "compiler/ike_policy.h"
#include "tests/unit/compile_helper.h"

namespace ipsecctl::testing {
namespace {

using compiler::format_prefix;
using compiler::parse_ipv4;
using compiler::parse_ipv6;

TEST(Hosts, InterfaceNamesStandForTheirAddresses) {
  FakeResolver resolver;
  resolver.interfaces["lo0"] = {*parse_ipv4("127.0.0.1"), *parse_ipv6("::1")};
  auto r = compile("flow from lo0 to 127.0.0.1\nike from lo0 to 127.0.0.2\n", resolver);
  ASSERT_EQ(r.errors, 0) << r.err;
  ASSERT_EQ(r.plan.flows.size(), 2u);
  EXPECT_EQ(format_prefix(r.plan.flows[0].src), "127.0.0.1");
  // IKE names use the interface name, an OpenBSD quirk kept on purpose.
  EXPECT_EQ(compiler::ike_names(r.plan.ikes[0]).local_id, "from-lo0");
}

TEST(Hosts, NamesAreResolvedThroughTheResolver) {
  FakeResolver resolver;
  resolver.hosts["gw.example"] = {*parse_ipv6("2001:db8::1"), *parse_ipv4("192.0.2.1")};
  auto r = compile("flow from 192.0.2.9 to gw.example\n", resolver);
  ASSERT_EQ(r.errors, 0) << r.err;
  ASSERT_EQ(r.plan.flows.size(), 2u);  // only the IPv4 answer pairs with the source
  EXPECT_EQ(format_prefix(*r.plan.flows[0].peer), "192.0.2.1");
}

TEST(Hosts, UnknownNamesAreRefused) {
  auto r = compile("flow from nowhere.invalid to 192.0.2.1\n");
  EXPECT_EQ(r.err,
            "no IP address found for nowhere.invalid\n"
            "test.conf: 1: could not parse host specification\n");
}

TEST(Hosts, NamesWithAPrefixAreNotLookedUp) {
  FakeResolver resolver;
  auto r = compile("flow from gw.example/24 to 192.0.2.1\n", resolver);
  EXPECT_EQ(resolver.host_lookups, 0);
  EXPECT_GT(r.errors, 0);
}

TEST(Hosts, MalformedAddressesAreNeverLookedUp) {
  FakeResolver resolver;
  for (const char* word : {"1.2.3.256", "1.2.3.4.5", "::g", "1::2::3", "0x", "0xZZ"}) {
    auto r = compile(std::string("flow from ") + word + " to 192.0.2.1\n", resolver);
    EXPECT_GT(r.errors, 0) << word;
  }
  EXPECT_EQ(resolver.host_lookups, 1);  // only "0xZZ" could be a name
}

TEST(Hosts, LegacyInetAtonFormsAreAddresses) {
  // OpenBSD's getaddrinfo still takes them; the name becomes the address.
  auto r = compile("flow from 127.1 to 0x0a000001 peer 10.1\n");
  ASSERT_EQ(r.errors, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')),
            "flow esp out from 127.0.0.1 to 10.0.0.1 peer 10.0.0.1 type require");
}

TEST(Hosts, ScopedIpv6Addresses) {
  FakeResolver resolver;
  resolver.interface_indexes["eth7"] = 7;
  auto r = compile("ike from fe80::1%eth7 to fe80::2%7 peer fe80::3%eth7\n", resolver);
  ASSERT_EQ(r.errors, 0) << r.err;
  EXPECT_EQ(r.plan.ikes[0].src.name, "fe80::1%eth7");
  EXPECT_EQ(r.plan.ikes[0].dst.name, "fe80::2%eth7");  // link-local: by interface name
  EXPECT_EQ(format_address(r.plan.ikes[0].src.address), "fe80::1");
  auto bad = compile("flow from fe80::1%nosuch to fe80::2\n", resolver);
  EXPECT_GT(bad.errors, 0);
}

TEST(Expansion, AnyIsBothFamiliesAndPairsSkipMismatches) {
  auto r = compile("ike from { any, ::/0 } to any\n");
  ASSERT_EQ(r.errors, 0) << r.err;
  ASSERT_EQ(r.plan.ikes.size(), 3u);
  EXPECT_EQ(r.plan.ikes[0].src.name, "0.0.0.0/0");
  EXPECT_EQ(r.plan.ikes[1].src.name, "::/0");
  EXPECT_EQ(r.plan.ikes[2].src.name, "::/0");
}

TEST(Expansion, FlowsWithoutDirectionGetTheirReverse) {
  auto r = compile("flow esp proto tcp from 10.0.0.1 port 22 to 10.0.0.2 port 2022\n");
  ASSERT_EQ(r.plan.flows.size(), 2u);
  const auto& in = r.plan.flows[1];
  EXPECT_EQ(in.direction, compiler::Direction::In);
  EXPECT_EQ(format_prefix(in.src), "10.0.0.2");
  EXPECT_EQ(in.sport, 2022);
  EXPECT_EQ(in.dport, 22);
  EXPECT_EQ(format_prefix(*in.peer), "10.0.0.2");  // kept from the out flow
  EXPECT_EQ(in.nr, 1u);
}

TEST(Expansion, AReverseSaThatFailsStopsTheRun) {
  // OpenBSD's grammar action exits at once (errx "sarule: expand_rule")
  // after the forward SA was printed and the reverse one refused.
  FakeResolver resolver;
  EXPECT_THROW(
      {
        try {
          compile("esp from 1.1.1.1 to 2.2.2.2 spi 0x1000:0x1001 auth hmac-sha1 enc aes "
                  "authkey 0x0011223344556677889900112233445566778899:0x00 "
                  "enckey 0x00112233445566778899aabbccddeeff:0x00112233445566778899aabbccddeeff\n",
                  resolver);
        } catch (const FatalError& e) {
          EXPECT_STREQ(e.what(), "sarule: expand_rule");
          throw;
        }
      },
      FatalError);
}

TEST(Expansion, BundlesChainSasWithTheSameEndpointsAndName) {
  const std::string k = "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
  auto r = compile("ipip from 1.1.1.1 to 2.2.2.2 spi 0x1000 bundle b\n"
                   "ah from 1.1.1.1 to 2.2.2.2 spi 0x2000 authkey " + k + " bundle b\n"
                   "ah from 1.1.1.1 to 2.2.2.2 spi 0x3000 authkey " + k + " bundle other\n"
                   "ah from 1.1.1.1 to 2.2.2.2 spi 0x4000 authkey " + k + " bundle b\n");
  ASSERT_EQ(r.errors, 0) << r.err;
  ASSERT_EQ(r.plan.bundles.size(), 2u);
  EXPECT_EQ(r.plan.bundles[0].spi1, 0x1000u);
  EXPECT_EQ(r.plan.bundles[0].spi2, 0x2000u);
  EXPECT_EQ(r.plan.bundles[1].spi1, 0x2000u);
  EXPECT_EQ(r.plan.bundles[1].spi2, 0x4000u);
}

TEST(Defaults, SasGetOpenBsdsTransforms) {
  const std::string k = "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
  auto r = compile("esp from 1.1.1.1 to 2.2.2.2 spi 0x1000 authkey " + k +
                   " enckey 0x00112233445566778899aabbccddeeff\n"
                   "ah transport from 1.1.1.1 to 2.2.2.2 spi 0x1001 authkey " + k + "\n"
                   "ipcomp from 1.1.1.1 to 2.2.2.2 spi 0x1002\n");
  ASSERT_EQ(r.errors, 0) << r.err;
  EXPECT_EQ(r.plan.sas[0].auth->name, "hmac-sha2-256");
  EXPECT_EQ(r.plan.sas[0].enc->name, "aes");
  EXPECT_EQ(r.plan.sas[0].tmode, compiler::TunnelMode::Tunnel);
  EXPECT_EQ(r.plan.sas[1].tmode, compiler::TunnelMode::Transport);
  EXPECT_EQ(r.plan.sas[2].comp->name, "deflate");
}

TEST(Defaults, DynamicIkeUsesTheHostNameAsIdentity) {
  FakeResolver resolver;
  resolver.name = "vpn.example.net";
  auto r = compile("ike dynamic from 10.0.0.0/8 to 10.1.0.0/16 peer 192.0.2.1\n", resolver);
  ASSERT_EQ(r.plan.ikes.size(), 1u);
  EXPECT_EQ(r.plan.ikes[0].srcid->text, "vpn.example.net");
  EXPECT_EQ(r.plan.ikes[0].srcid->type, compiler::IdType::Fqdn);
}

TEST(DefaultPeer, DisagreementsAreWarningsNotErrors) {
  auto r = compile("ike from 10.0.0.0/8 to any\nike from 11.0.0.0/8 to any psk x\n");
  EXPECT_EQ(r.errors, 0);
  EXPECT_EQ(r.err, "test.conf: 2: default peer phase 1 auth mismatch\n");
}

TEST(Origins, EveryRuleRemembersItsLine) {
  auto r = compile("\nflow esp from 1.1.1.1 to 2.2.2.2\n\nike from 1.1.1.1 to \\\n 3.3.3.3\n");
  ASSERT_EQ(r.plan.flows.size(), 2u);
  EXPECT_EQ(r.plan.flows[1].origin.line, 2u);
  EXPECT_EQ(r.plan.ikes[0].origin.line, 5u);
}

TEST(Isakmpd, GenerationStopsAtAnIllegalTransform) {
  auto r = compile("ike ah from 1.1.1.1 to 2.2.2.2 quick enc aes\n");
  auto commands = compiler::isakmpd_add_commands(r.plan.ikes[0]);
  ASSERT_TRUE(commands.error);
  EXPECT_EQ(*commands.error, "illegal transform aes");
  EXPECT_EQ(commands.text.substr(commands.text.rfind("C set")),
            "C set [phase2-protocol-from-1.1.1.1-to-2.2.2.2]:PROTOCOL_ID=IPSEC_AH force\n");
}

TEST(Isakmpd, DeleteRemovesThePhase2Sections) {
  auto r = compile("ike passive esp from 1.1.1.1 to 2.2.2.2\n");
  EXPECT_EQ(compiler::isakmpd_delete_commands(r.plan.ikes[0]).text,
            "t from-1.1.1.1-to-2.2.2.2\n"
            "C rmv [Phase 2]:Passive-Connections=from-1.1.1.1-to-2.2.2.2\n"
            "C rms [from-1.1.1.1-to-2.2.2.2]\n"
            "C rms [phase2-from-1.1.1.1-to-2.2.2.2]\n");
}

TEST(Printer, RuleNumbersPrefixEachRule) {
  FakeResolver resolver;
  output::PrintOptions print;
  print.rule_numbers = true;
  auto r = compile("flow esp from 1.1.1.1 to 2.2.2.2\n", resolver, print);
  EXPECT_EQ(r.out,
            "@0 flow esp out from 1.1.1.1 to 2.2.2.2 peer 2.2.2.2 type require\n"
            "@1 flow esp in from 2.2.2.2 to 1.1.1.1 peer 2.2.2.2 type require\n");
}

}  // namespace
}  // namespace ipsecctl::testing
