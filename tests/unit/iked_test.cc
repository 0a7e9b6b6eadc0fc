// iked.conf(5): what a policy means (the model iked builds: defaults,
// flows in iked's order, its limits), how `iked -n -v` prints it, and
// what charon is given for it (--iked -f). The exact text of every
// message is the conformance set's business (tests/conformance/iked).
#include <gtest/gtest.h>
#include <sys/socket.h>

#include "backends/vici/vici_iked.h"
#include "tests/captured_stream.h"
#include "compiler/iked/iked_builder.h"
#include "output/iked_text.h"
#include "output/json_render.h"
#include "parser/iked/iked_driver.h"

namespace ipsecctl::iked {
namespace {

struct Read {
  Config config;
  int errors = 0;
  std::string err;
};

Read read(const std::string& text) {
  ipsecctl::testing::CapturedStream err;
  Read r;
  {
    Diagnostics diag(err.get());
    ConfigBuilder builder;
    builder.set_offline(true);
    Driver driver(diag, builder);
    r.errors = driver.parse_text("test.conf", text).errors;
    diag.flush();
    r.config = builder.config();
  }
  r.err = err.text();
  return r;
}

struct Translated {
  std::optional<std::vector<backends::vici::ViciConnection>> conns;
  std::string err;
};

Translated translate(const Config& config, const backends::vici::InterfaceIdLookup& if_ids = {}) {
  ipsecctl::testing::CapturedStream err;
  Translated t;
  {
    Diagnostics diag(err.get());
    diag.intern_file("test.conf");
    t.conns = backends::vici::translate_iked(config, diag, {}, nullptr, if_ids);
  }
  t.err = err.text();
  return t;
}

const backends::vici::ViciSection& sub(const backends::vici::ViciSection& s,
                                       const std::string& name) {
  static const backends::vici::ViciSection empty;
  const backends::vici::ViciItem* item = backends::vici::find(s, name);
  return item != nullptr ? item->section : empty;
}

std::vector<std::string> list_of(const backends::vici::ViciSection& s, const std::string& name) {
  const backends::vici::ViciItem* item = backends::vici::find(s, name);
  return item != nullptr ? item->list : std::vector<std::string>{};
}

TEST(Iked, APolicyWithoutTransformsGetsIkedsDefaultProposals) {
  auto r = read("ikev2 from 10.1.0.0/24 to 10.2.0.0/24 peer 192.0.2.2\n");
  ASSERT_EQ(r.errors, 0) << r.err;
  ASSERT_EQ(r.config.policies.size(), 1u);
  const Policy& p = r.config.policies[0];
  EXPECT_EQ(p.name, "policy1");
  // An AEAD IKE proposal, a classic one, and one ESP proposal (Linux's).
  ASSERT_EQ(p.proposals.size(), 3u);
  EXPECT_TRUE(p.proposals[0].ike);
  EXPECT_FALSE(p.proposals[2].ike);
  EXPECT_EQ(p.lifetime.seconds, 10800u);
  EXPECT_EQ(p.lifetime.bytes, 4294967296ull);
  const std::string text = output::render_iked_policy(p);
  EXPECT_TRUE(text.starts_with(
      "ikev2 \"policy1\" passive tunnel esp inet from 10.1.0.0/24 to 10.2.0.0/24 local any "
      "peer 192.0.2.2 ikesa enc aes-128-gcm enc aes-256-gcm prf hmac"))
      << text;
}

TEST(Iked, FlowsComeInIkedsOrderAndDuplicatesOnce) {
  // iked sorts flows by destination, then source, comparing the raw
  // address words of this little-endian machine (9.0.0.1 before 8.0.0.2).
  auto r = read(
      "ikev2 from 1.0.0.2 to 9.0.0.1 from 2.0.0.1 to 9.0.0.1 from 1.0.0.1 to 8.0.0.2 "
      "from 1.0.0.2 to 9.0.0.1 peer 5.5.5.5\n");
  ASSERT_EQ(r.errors, 0) << r.err;
  const std::string text = output::render_iked_policy(r.config.policies[0]);
  EXPECT_NE(text.find("from 2.0.0.1 to 9.0.0.1 from 1.0.0.2 to 9.0.0.1 from 1.0.0.1 to 8.0.0.2 "),
            std::string::npos)
      << text;
  EXPECT_NE(r.err.find("create_ike: duplicate flow"), std::string::npos) << r.err;
}

TEST(Iked, AnyOnBothSidesMeansBothFamilies) {
  auto r = read("ikev2 from any to any\n");
  ASSERT_EQ(r.errors, 0) << r.err;
  ASSERT_EQ(r.config.policies[0].flows.size(), 2u);
  EXPECT_EQ(r.config.policies[0].flows[0].src.family, AF_INET);
  EXPECT_EQ(r.config.policies[0].flows[1].src.family, AF_INET6);
}

TEST(Iked, MacrosIncludesOfTextAndSetOptions) {
  auto r = read("net = \"10.1.0.0/16\"\nset nomobike\nset dpd_check_interval 30\n"
                "ikev2 \"a\" active from $net to 10.2.0.0/16 peer 192.0.2.2 psk \"k\"\n");
  ASSERT_EQ(r.errors, 0) << r.err;
  EXPECT_EQ(r.config.policies[0].flows[0].src.mask, 16);
  EXPECT_EQ(r.config.policies[0].auth.method, AuthMethod::Psk);
}

TEST(Iked, AnEmptyTransformListIsRefusedWhereIkedCrashes) {
  auto r = read("ikev2 from 10.1.0.1 to 10.2.0.1 ikesa childsa enc aes-256\n");
  EXPECT_GT(r.errors, 0);
  EXPECT_NE(r.err.find("test.conf: 1: ikesa without a transform (iked crashes on this)"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(r.config.policies.empty());
}

TEST(Iked, ErrorsNameTheFileAndLineAsIkedDoes) {
  // (iked, like any yacc parser, says nothing of a second error until
  // three tokens have gone by since the first.)
  auto r = read("\nikev2 from 10.1.0.1 to 10.2.0.1 \\\n  childsa enc nosuch\n$undefined\n");
  EXPECT_EQ(r.err,
            "test.conf: 3: nosuch not a valid transform\n"
            "test.conf: 4: macro 'undefined' not defined\n");
  EXPECT_GT(r.errors, 0);
}

TEST(IkedCharon, ASiteToSitePolicyIsOneConnectionWithAChildPerFlow) {
  auto r = read(
      "ikev2 \"site a\" active esp from 10.1.0.0/16 to 10.2.0.0/16 from 10.1.0.0/16 to "
      "10.3.0.0/16 local 192.0.2.1 peer 198.51.100.2 \\\n"
      "  ikesa enc aes-256-gcm prf hmac-sha2-384 group ecp384 \\\n"
      "  ikesa enc aes-256 auth hmac-sha2-256 group modp2048 \\\n"
      "  childsa enc aes-256 auth hmac-sha2-256 group ecp384 \\\n"
      "  srcid \"/C=DE/O=Example/CN=a\" dstid b.example.org ikelifetime 4h lifetime 1h "
      "bytes 1G psk \"shared\"\n");
  ASSERT_EQ(r.errors, 0) << r.err;
  auto t = translate(r.config);
  ASSERT_TRUE(t.conns) << t.err;
  ASSERT_EQ(t.conns->size(), 1u);
  const auto& conn = t.conns->front();
  EXPECT_EQ(conn.name, "site_a");
  const auto& body = sub(conn.load_conn, conn.name);
  EXPECT_EQ(backends::vici::value_of(body, "version"), "2");
  // Each ikesa one proposal, in order; all of a group's transforms in it
  // (the default PRFs of the second, which names none).
  EXPECT_EQ(list_of(body, "proposals"),
            (std::vector<std::string>{
                "aes256gcm16-prfsha384-ecp384",
                "aes256-sha256-prfsha256-prfsha384-prfsha512-prfsha1-modp2048"}));
  EXPECT_EQ(backends::vici::value_of(body, "rekey_time"), "14400s");
  EXPECT_EQ(list_of(body, "local_addrs"), std::vector<std::string>{"192.0.2.1"});
  EXPECT_EQ(list_of(body, "remote_addrs"), std::vector<std::string>{"198.51.100.2"});
  EXPECT_EQ(backends::vici::value_of(sub(body, "local"), "id"), "C=DE, O=Example, CN=a");
  EXPECT_EQ(backends::vici::value_of(sub(body, "remote"), "id"), "b.example.org");
  EXPECT_EQ(backends::vici::value_of(sub(body, "remote"), "auth"), "psk");
  const auto& children = sub(body, "children");
  ASSERT_EQ(conn.children.size(), 2u);
  EXPECT_TRUE(conn.children[0].start);
  const auto& child = sub(children, conn.children[0].name);
  EXPECT_EQ(list_of(child, "local_ts"), std::vector<std::string>{"10.1.0.0/16"});
  EXPECT_EQ(list_of(child, "esp_proposals"),
            std::vector<std::string>{"aes256-sha256-ecp384-noesn"});
  EXPECT_EQ(backends::vici::value_of(child, "life_time"), "3600s");
  EXPECT_EQ(backends::vici::value_of(child, "life_bytes"), "1073741824");
  EXPECT_EQ(backends::vici::value_of(child, "start_action"), "trap");
  ASSERT_TRUE(conn.secret);
  EXPECT_EQ(list_of(conn.secret->body, "owners"),
            (std::vector<std::string>{"198.51.100.2", "b.example.org"}));
}

TEST(IkedCharon, WhatCharonIsNotGivenYetIsRefusedAtTheLine) {
  auto r = read(
      "user \"alice\" \"secret\"\n"
      "ikev2 \"rw\" passive from 10.1.0.0/16 to dynamic eap \"mschap-v2\"\n"
      "ikev2 \"pool\" passive from 10.1.0.0/16 to dynamic config name-server 10.1.0.2\n"
      "ikev2 \"dup\" passive from 10.1.0.0/16 to 10.2.0.0/16 peer 192.0.2.9\n"
      "ikev2 \"dup\" passive from 10.1.0.0/16 to 10.4.0.0/16 peer 192.0.2.8\n");
  ASSERT_EQ(r.errors, 0) << r.err;
  auto t = translate(r.config);
  EXPECT_FALSE(t.conns);
  EXPECT_EQ(t.err.find("test.conf: 1:"), std::string::npos) << t.err;  // users load
  EXPECT_EQ(t.err.find("test.conf: 2:"), std::string::npos) << t.err;  // and EAP policies
  EXPECT_NE(t.err.find("test.conf: 3: charon sends configuration attributes with the addresses "
                       "of a pool"),
            std::string::npos)
      << t.err;
  EXPECT_NE(t.err.find("test.conf: 5: policy \"dup\" is charon's connection dup, as the "
                       "policy at test.conf:4 is"),
            std::string::npos)
      << t.err;
}

TEST(IkedCharon, ConfigAddressIsAPoolAndRequestAddressAVirtualIp) {
  auto r = read(
      "ikev2 \"gw\" passive from 10.1.0.0/16 to dynamic peer any psk \"k\" \\\n"
      "  config address 10.9.0.0/24 config name-server 10.1.0.2 config address 2001:db8:9::1 \\\n"
      "  config protected-subnet 10.1.0.0/16\n"
      "ikev2 \"client\" active from dynamic to 10.1.0.0/16 peer 192.0.2.1 psk \"k\" "
      "request address any\n");
  ASSERT_EQ(r.errors, 0) << r.err;
  auto t = translate(r.config);
  ASSERT_TRUE(t.conns) << t.err;
  ASSERT_EQ(t.conns->size(), 2u);
  const auto& gw = (*t.conns)[0];
  ASSERT_EQ(gw.pools.size(), 2u);
  EXPECT_EQ(gw.pools[0].name, "gw");
  EXPECT_EQ(gw.pools[1].name, "gw-2");
  const auto& first = sub(gw.pools[0].body, "gw");
  EXPECT_EQ(backends::vici::value_of(first, "addrs"), "10.9.0.0/24");
  EXPECT_EQ(list_of(first, "dns"), std::vector<std::string>{"10.1.0.2"});
  EXPECT_EQ(list_of(first, "subnet"), std::vector<std::string>{"10.1.0.0/16"});
  EXPECT_EQ(backends::vici::value_of(sub(gw.pools[1].body, "gw-2"), "addrs"), "2001:db8:9::1/128");
  const auto& body = sub(gw.load_conn, "gw");
  EXPECT_EQ(list_of(body, "pools"), (std::vector<std::string>{"gw", "gw-2"}));
  const auto& child = sub(sub(body, "children"), gw.children[0].name);
  EXPECT_EQ(list_of(child, "remote_ts"), std::vector<std::string>{"dynamic"});
  const auto& client = sub((*t.conns)[1].load_conn, "client");
  EXPECT_EQ(list_of(client, "vips"), std::vector<std::string>{"0.0.0.0"});
}

TEST(IkedCharon, UsersAreEapSecretsAndEapPoliciesAskForThem) {
  auto r = read("user \"alice\" \"wonderland\"\nuser \"bob\" \"builder\"\n"
                "ikev2 \"rw\" passive from 10.1.0.0/16 to dynamic srcid gw.example "
                "eap \"mschap-v2\" config address 10.9.0.0/24\n");
  ASSERT_EQ(r.errors, 0) << r.err;
  auto t = translate(r.config);
  ASSERT_TRUE(t.conns) << t.err;
  const auto& conn = t.conns->front();
  const auto& body = sub(conn.load_conn, "rw");
  EXPECT_EQ(backends::vici::value_of(sub(body, "remote"), "auth"), "eap-mschapv2");
  EXPECT_EQ(backends::vici::value_of(sub(body, "remote"), "eap_id"), "%any");
  EXPECT_EQ(backends::vici::value_of(sub(body, "local"), "auth"), "pubkey");
  ASSERT_EQ(conn.user_secrets.size(), 2u);
  EXPECT_EQ(conn.user_secrets[0].base_id, "eap-ipsecctl-alice");
  EXPECT_EQ(backends::vici::value_of(conn.user_secrets[0].body, "type"), "EAP");
  EXPECT_EQ(list_of(conn.user_secrets[1].body, "owners"), std::vector<std::string>{"bob"});
}

TEST(IkedCharon, IfaceIsTheIfIdOfThatXfrmInterface) {
  // (iked checks that the interface exists: lo does, everywhere.)
  auto r = read("ikev2 \"routed\" active from any to any peer 192.0.2.2 iface lo\n");
  ASSERT_EQ(r.errors, 0) << r.err;
  auto t = translate(r.config, [](const std::string& name) -> std::optional<std::uint32_t> {
    if (name == "lo") return 7;
    return std::nullopt;
  });
  ASSERT_TRUE(t.conns) << t.err;
  const auto& conn = t.conns->front();
  ASSERT_EQ(conn.children.size(), 2u);  // 0.0.0.0/0 and ::/0
  EXPECT_EQ(conn.children[0].if_id, 7u);
  const auto& child = sub(sub(sub(conn.load_conn, "routed"), "children"), conn.children[1].name);
  EXPECT_EQ(backends::vici::value_of(child, "if_id_out"), "7");
  EXPECT_EQ(list_of(child, "remote_ts"), std::vector<std::string>{"::/0"});
  auto none = translate(r.config);
  EXPECT_FALSE(none.conns);
  EXPECT_NE(none.err.find("test.conf: 1: iface lo is not an XFRM interface with an if_id above 0"),
            std::string::npos)
      << none.err;
}

TEST(IkedJson, PoliciesAreInTheCheckDocumentWithoutTheirKeys) {
  auto r = read("user \"alice\" \"pw\"\n"
                "ikev2 \"a\" active from 10.1.0.0/16 port 22 to 10.2.0.0/16 peer 192.0.2.2 "
                "psk \"topsecret\"\n");
  ASSERT_EQ(r.errors, 0) << r.err;
  compiler::Plan plan;
  plan.iked = std::make_shared<const Config>(r.config);
  Diagnostics diag(nullptr);
  diag.intern_file("test.conf");
  output::PlanJsonOptions options;
  options.ok = true;
  const std::string json = output::render_plan_json(plan, diag, options);
  EXPECT_NE(json.find("\"iked\":{\"users\":[{\"name\":\"alice\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"src\":\"10.1.0.0/16\",\"src_port\":22"), std::string::npos) << json;
  EXPECT_NE(json.find("\"auth\":\"psk\""), std::string::npos) << json;
  EXPECT_EQ(json.find("topsecret"), std::string::npos) << json;
  EXPECT_EQ(json.find("\"pw\""), std::string::npos) << json;
  options.show_keys = true;
  EXPECT_NE(output::render_plan_json(plan, diag, options).find("topsecret"), std::string::npos);
}

}  // namespace
}  // namespace ipsecctl::iked
