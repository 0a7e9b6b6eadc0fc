// ike rules as IKEv2: the version a file chooses (ipsecctl_ike_version),
// what an IKEv2 rule means to charon, what IKEv2 refuses at file:line, the
// names charon gets (swanctl.conf can hold them) and the swanctl.conf that
// --format swanctl writes.
#include <gtest/gtest.h>

#include "backends/vici/vici_config.h"
#include "compiler/ike_policy.h"
#include "output/swanctl_conf.h"
#include "tests/unit/compile_helper.h"

namespace ipsecctl::backends::vici {
namespace {

const ViciSection& sub(const ViciSection& s, const std::string& name) {
  static const ViciSection empty;
  const ViciItem* item = find(s, name);
  return item != nullptr ? item->section : empty;
}

std::vector<std::string> list_of(const ViciSection& s, const std::string& name) {
  const ViciItem* item = find(s, name);
  return item != nullptr ? item->list : std::vector<std::string>{};
}

struct Translated {
  std::optional<std::vector<ViciConnection>> conns;
  std::string err;
};

Translated translate_text(const std::string& text) {
  auto c = testing::compile(text);
  EXPECT_EQ(c.errors, 0) << c.err;
  testing::CapturedStream err;
  Translated t;
  {
    Diagnostics diag(err.get());
    diag.intern_file("test.conf");
    t.conns = translate(c.plan, diag);
  }
  t.err = err.text();
  return t;
}

// Seed 002's tunnel: IPv6 outer addresses, a route-based interface,
// AES-256-GCM and ECP384 on both SAs, as the Junos and strongSwan
// configurations of the document have it.
TEST(IkeV2, RouteBasedSeedTunnelIsOneIkev2ConnectionWithAeadProposals) {
  auto t = translate_text(
      "ipsecctl_ike_version = \"2\"\n"
      "ike dynamic interface sec6 local 2001:db8:1::1 peer 2001:db8:3::2 \\\n"
      "  main auth hmac-sha2-384 enc aes-256-gcm group ecp384 lifetime 86400 \\\n"
      "  quick enc aes-256-gcm group ecp384 lifetime 3600 psk \"secret\"\n");
  ASSERT_TRUE(t.conns) << t.err;
  ASSERT_EQ(t.conns->size(), 1u);
  const ViciConnection& conn = t.conns->front();
  EXPECT_EQ(conn.name, "peer-2001_db8_3__2-local-2001_db8_1__1");
  EXPECT_EQ(conn.version, IkeVersion::V2);
  const ViciSection& body = sub(conn.load_conn, conn.name);
  EXPECT_EQ(value_of(body, "version"), "2");
  EXPECT_EQ(list_of(body, "proposals"), std::vector<std::string>{"aes256gcm16-prfsha384-ecp384"});
  // No lifetime on the IKEv2 wire: rekey in place before the rule's limit.
  EXPECT_EQ(value_of(body, "rekey_time"), "77760s");
  EXPECT_EQ(value_of(body, "over_time"), "8640s");
  EXPECT_EQ(value_of(body, "rand_time"), "4320s");
  EXPECT_EQ(value_of(body, "reauth_time"), "0s");
  EXPECT_EQ(value_of(body, "mobike"), "no");
  EXPECT_EQ(find(body, "aggressive"), nullptr);
  EXPECT_EQ(list_of(body, "local_addrs"), std::vector<std::string>{"2001:db8:1::1"});
  EXPECT_EQ(list_of(body, "remote_addrs"), std::vector<std::string>{"2001:db8:3::2"});
  ASSERT_EQ(conn.children.size(), 1u);
  EXPECT_EQ(conn.children.front().name, "from-sec6-to-sec6");
  const ViciSection& child = sub(sub(body, "children"), "from-sec6-to-sec6");
  EXPECT_EQ(list_of(child, "esp_proposals"), std::vector<std::string>{"aes256gcm16-ecp384"});
  // Everything, in both families: IPv4 and IPv6 over the one tunnel.
  const std::vector<std::string> everything{"0.0.0.0/0", "::/0"};
  EXPECT_EQ(list_of(child, "local_ts"), everything);
  EXPECT_EQ(list_of(child, "remote_ts"), everything);
  EXPECT_EQ(value_of(child, "if_id_in"), "6");
  EXPECT_EQ(value_of(child, "if_id_out"), "6");
  EXPECT_EQ(value_of(child, "life_time"), "3600s");
  EXPECT_EQ(value_of(child, "rekey_time"), "3240s");
}

TEST(IkeV2, TheVersionHoldsForTheRulesAfterItsMacroOnly) {
  auto t = translate_text(
      "ike esp from 10.0.1.0/24 to 10.0.2.0/24 peer 192.0.2.1 psk \"a\"\n"
      "ipsecctl_ike_version = \"2\"\n"
      "ike esp from 10.0.1.0/24 to 10.0.3.0/24 peer 192.0.2.2 dstid 192.0.2.2 psk \"b\"\n"
      "ipsecctl_ike_version = \"any\"\n"
      "ike passive esp from 10.0.1.0/24 to any psk \"a\"\n"
      "ipsecctl_ike_version = \"1\"\n"
      "ike esp from 10.0.1.0/24 to 10.0.4.0/24 peer 192.0.2.4 psk \"a\"\n");
  ASSERT_TRUE(t.conns) << t.err;
  std::vector<std::string> versions;
  for (const auto& c : *t.conns) versions.push_back(value_of(sub(c.load_conn, c.name), "version"));
  // `any` is charon's version 0: it starts IKEv2 and answers either.
  EXPECT_EQ(versions, (std::vector<std::string>{"1", "2", "0", "1"}));
  EXPECT_EQ(value_of(sub(t.conns->at(2).load_conn, "peer-default"), "mobike"), "no");
}

TEST(IkeV2, AggressiveModeAndIkeOnlyTransformsAreRefusedAtTheirLine) {
  struct Case {
    const char* rule;
    const char* message;
  };
  const Case cases[] = {
      {"ike esp from 10.0.1.0/24 to 10.0.2.0/24 peer 192.0.2.1 aggressive psk \"x\"\n",
       "test.conf: 2: aggressive mode is an IKEv1 exchange: IKEv2 has none"},
      {"ike esp from 10.0.1.0/24 to 10.0.2.0/24 peer 192.0.2.1 main group none psk \"x\"\n",
       "test.conf: 2: an IKEv2 SA needs a Diffie-Hellman group"},
      {"ike esp from 10.0.1.0/24 to 10.0.2.0/24 peer 192.0.2.1 main auth hmac-ripemd160\n",
       "test.conf: 2: hmac-ripemd160 has no IKEv2 integrity or PRF transform"},
      {"ike esp from 10.0.1.0/24 to 10.0.2.0/24 peer 192.0.2.1 main enc aes-128-gmac\n",
       "test.conf: 2: aes-128-gmac cannot protect an IKEv2 SA"},
      {"ike esp from 10.0.1.0/24 to 10.0.2.0/24 peer 192.0.2.1 main enc null\n",
       "test.conf: 2: null cannot protect an IKEv2 SA"},
  };
  for (const Case& c : cases) {
    auto t = translate_text(std::string("ipsecctl_ike_version = \"2\"\n") + c.rule);
    EXPECT_FALSE(t.conns) << c.rule;
    EXPECT_NE(t.err.find(c.message), std::string::npos) << t.err;
  }
}

TEST(IkeV2, AeadAndChachaAreIkev2OnlyWhereIsakmpdHasNoName) {
  auto v2 = translate_text(
      "ipsecctl_ike_version = \"2\"\n"
      "ike esp from 10.0.1.0/24 to 10.0.2.0/24 peer 192.0.2.1 main enc chacha20-poly1305 "
      "quick enc chacha20-poly1305 group none psk \"x\"\n");
  ASSERT_TRUE(v2.conns) << v2.err;
  const ViciConnection& conn = v2.conns->front();
  const ViciSection& body = sub(conn.load_conn, conn.name);
  // An AEAD IKE cipher has no integrity algorithm: `auth` (default sha1)
  // names the PRF.
  EXPECT_EQ(list_of(body, "proposals"),
            std::vector<std::string>{"chacha20poly1305-prfsha1-modp3072"});
  const ViciSection& child = sub(sub(body, "children"), conn.children.front().name);
  EXPECT_EQ(list_of(child, "esp_proposals"), std::vector<std::string>{"chacha20poly1305"});
  // The same rule in IKEv1 (or `any`, which must also be IKEv1) is what
  // OpenBSD refuses.
  for (const char* version : {"1", "any"}) {
    auto v1 = translate_text(std::string("ipsecctl_ike_version = \"") + version +
                             "\"\nike esp from 10.0.1.0/24 to 10.0.2.0/24 peer 192.0.2.1 "
                             "main enc aes-256-gcm psk \"x\"\n");
    EXPECT_FALSE(v1.conns);
    EXPECT_NE(v1.err.find("illegal transform aes-256-gcm"), std::string::npos) << v1.err;
  }
}

TEST(IkeV2, OnePeerSpeaksOneVersion) {
  auto t = translate_text(
      "ike esp from 10.0.1.0/24 to 10.0.2.0/24 peer 192.0.2.1 psk \"x\"\n"
      "ipsecctl_ike_version = \"2\"\n"
      "ike esp from 10.0.1.0/24 to 10.0.3.0/24 peer 192.0.2.1 psk \"x\"\n");
  EXPECT_FALSE(t.conns);
  EXPECT_NE(t.err.find("test.conf: 3: this rule speaks IKE version 2 but peer-192_0_2_1 was set "
                       "to version 1 by test.conf:1"),
            std::string::npos)
      << t.err;
}

// charon picks an IKEv2 key by identities alone, the initiator's before
// the peer has said who it is: a key without a dstid is also %any's, and
// then the key charon finds for every rule without a dstid (IKEv1 ones
// too, which look identities up before addresses): a different key
// without a dstid is refused.
TEST(IkeV2, KeysWithoutDstidAreFoundAndMustNotDiffer) {
  auto one = translate_text(
      "ipsecctl_ike_version = \"2\"\n"
      "ike dynamic esp from 10.0.1.0/24 to 10.0.2.0/24 peer 192.0.2.1 psk \"same\"\n"
      "ike dynamic esp from 10.0.1.0/24 to 10.0.3.0/24 peer 192.0.2.2 psk \"same\"\n"
      "ike dynamic esp from 10.0.1.0/24 to 10.0.4.0/24 peer 192.0.2.3 dstid gw3.example "
      "psk \"other\"\n");
  ASSERT_TRUE(one.conns) << one.err;
  EXPECT_EQ(list_of(one.conns->at(0).secret->body, "owners"),
            (std::vector<std::string>{"192.0.2.1", "%any"}));
  EXPECT_EQ(list_of(one.conns->at(2).secret->body, "owners"),
            (std::vector<std::string>{"192.0.2.3", "gw3.example"}));
  auto two = translate_text(
      "ipsecctl_ike_version = \"2\"\n"
      "ike dynamic esp from 10.0.1.0/24 to 10.0.2.0/24 peer 192.0.2.1 psk \"one\"\n"
      "ike dynamic esp from 10.0.1.0/24 to 10.0.3.0/24 peer 192.0.2.2 psk \"two\"\n");
  EXPECT_FALSE(two.conns);
  EXPECT_NE(two.err.find("test.conf: 3: charon picks a pre-shared key by the peers' "
                         "identities, and this rule and the one at test.conf:2 have different "
                         "keys and no dstid"),
            std::string::npos)
      << two.err;
  // A hub with an IKEv1 branch and an IKEv2 one: the IKEv1 rule would be
  // given the IKEv2 key, whichever comes first; the error names the later.
  const std::string v1_branch =
      "ike passive esp from 10.0.0.0/24 to 10.0.20.0/24 peer 198.51.100.20 srcid hub.example "
      "psk \"two\"\n";
  const std::string v2_branch =
      "ike dynamic esp from 10.0.0.0/24 to 10.0.10.0/24 peer 198.51.100.10 ";
  const std::string v2_key = "psk \"one\"";
  auto v1_first = translate_text(v1_branch + "ipsecctl_ike_version = \"2\"\n" + v2_branch + v2_key + "\n");
  EXPECT_FALSE(v1_first.conns);
  EXPECT_NE(v1_first.err.find("test.conf: 3: charon picks a pre-shared key"),
            std::string::npos)
      << v1_first.err;
  auto v2_first = translate_text("ipsecctl_ike_version = \"2\"\n" + v2_branch + v2_key +
                                 "\nipsecctl_ike_version = \"1\"\n" + v1_branch);
  EXPECT_FALSE(v2_first.conns);
  EXPECT_NE(v2_first.err.find("test.conf: 4: charon picks a pre-shared key by the peers' "
                              "identities, and this rule and the one at test.conf:2"),
            std::string::npos)
      << v2_first.err;
  // The IKEv2 branch's identity named: its key is no longer %any's.
  auto named = translate_text(v1_branch + "ipsecctl_ike_version = \"2\"\n" + v2_branch +
                              "dstid 198.51.100.10 " + v2_key + "\n");
  ASSERT_TRUE(named.conns) << named.err;
  EXPECT_EQ(list_of(named.conns->at(1).secret->body, "owners"),
            std::vector<std::string>{"198.51.100.10"});
  // A default secret (neither peer nor dstid) is %any's in either version.
  auto road = translate_text(
      "ike passive esp from 10.0.1.0/24 to any psk \"road\"\n"
      "ike dynamic esp from 10.0.1.0/24 to 10.0.3.0/24 peer 192.0.2.2 psk \"gw\"\n");
  EXPECT_FALSE(road.conns);
  EXPECT_NE(road.err.find("test.conf: 2: charon picks a pre-shared key"), std::string::npos)
      << road.err;
  // IKEv1 keys are found by address: nothing changes there.
  auto v1 = translate_text(
      "ike dynamic esp from 10.0.1.0/24 to 10.0.2.0/24 peer 192.0.2.1 psk \"one\"\n"
      "ike dynamic esp from 10.0.1.0/24 to 10.0.3.0/24 peer 192.0.2.2 psk \"two\"\n");
  ASSERT_TRUE(v1.conns) << v1.err;
  EXPECT_EQ(list_of(v1.conns->at(0).secret->body, "owners"),
            std::vector<std::string>{"192.0.2.1"});
}

TEST(IkeV2, ABadVersionIsAnErrorAtItsMacro) {
  auto c = testing::compile("ipsecctl_ike_version = \"3\"\n");
  EXPECT_EQ(c.errors, 1);
  EXPECT_NE(c.err.find("test.conf: 1: ipsecctl_ike_version: \"3\" is not an IKE version (1, 2 "
                       "or any)"),
            std::string::npos)
      << c.err;
}

TEST(CharonNames, SwanctlConfCanHoldEveryName) {
  auto t = translate_text(
      "ike esp proto udp from 10.0.1.1 port 53 to 10.0.2.0/24 peer 192.0.2.1 local 192.0.2.9 "
      "psk \"x\"\n"
      "ike esp from 2001:db8:a1::/64 to 2001:db8:a2::/64 peer 2001:db8::2 psk \"y\"\n");
  ASSERT_TRUE(t.conns) << t.err;
  EXPECT_EQ(t.conns->at(0).name, "peer-192_0_2_1-local-192_0_2_9");
  EXPECT_EQ(t.conns->at(0).children.front().name, "from-10_0_1_1[17/53]-to-10_0_2_0/24[17]");
  EXPECT_EQ(t.conns->at(1).name, "peer-2001_db8__2");
  EXPECT_EQ(t.conns->at(1).children.front().name, "from-2001_db8_a1__/64-to-2001_db8_a2__/64");
  for (const auto& c : *t.conns) {
    for (const std::string& name : {c.name, c.children.front().name, c.secret->base_id})
      EXPECT_EQ(name.find_first_of(".,:{}=\"# \t"), std::string::npos) << name;
  }
}

TEST(SwanctlConf, WritesTheMessagesAsSwanctlReadsThem) {
  auto t = translate_text(
      "ike passive esp from 10.0.1.0/24 to 10.0.2.0/24 peer 192.0.2.1 "
      "dstid \"C=DE/O=Foo/CN=vpn7\" psk \"two words \\\"quoted\\\"\"\n"
      "ike passive esp from 10.0.1.0/24 to 10.0.3.0/24 peer 192.0.2.2 psk \"0xdeadbeef\"\n");
  ASSERT_TRUE(t.conns) << t.err;
  const std::string text = output::render_swanctl_conf(*t.conns, "header");
  EXPECT_EQ(text.rfind("# header\nconnections {\n    peer-192_0_2_1 {\n        version = 1\n", 0),
            0u)
      << text;
  EXPECT_NE(text.find("        children {\n            from-10_0_1_0/24-to-10_0_2_0/24 {\n"
                      "                mode = tunnel\n"
                      "                local_ts = 10.0.1.0/24\n"),
            std::string::npos)
      << text;
  // Values swanctl would misread are quoted; a secret it would decode
  // ("0x..." is hex to it) goes as base64.
  EXPECT_NE(text.find("            id = \"C=DE/O=Foo/CN=vpn7\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("    ike-ipsecctl-peer-192_0_2_1 {\n        secret = \"two words "
                      "\\\"quoted\\\"\"\n        id-1 = 192.0.2.1\n        id-2 = "
                      "\"C=DE/O=Foo/CN=vpn7\"\n    }\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("        secret = 0sMHhkZWFkYmVlZg==\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace ipsecctl::backends::vici
