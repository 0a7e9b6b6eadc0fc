// VICI wire encoding against byte layouts written down from strongSwan's
// protocol description, and ike rules in strongSwan's model.
#include <gtest/gtest.h>

#include "backends/vici/vici_config.h"
#include "backends/vici/vici_message.h"
#include "tests/unit/compile_helper.h"

namespace ipsecctl::backends::vici {
namespace {

TEST(ViciMessage, EncodesEachElementType) {
  ViciSection m{value("a", "xy"), list("l", {"1", "22"}), section("s", {value("k", "")})};
  std::vector<std::uint8_t> expected{
      3, 1, 'a', 0, 2, 'x', 'y',                       // KEY_VALUE a = "xy"
      4, 1, 'l', 5, 0, 1, '1', 5, 0, 2, '2', '2', 6,   // LIST l [1, 22]
      1, 1, 's', 3, 1, 'k', 0, 0, 2};                  // SECTION s { k = "" }
  EXPECT_EQ(encode(m), expected);
  ViciSection back = decode(expected.data(), expected.size());
  EXPECT_EQ(value_of(back, "a"), "xy");
  ASSERT_NE(find(back, "l"), nullptr);
  EXPECT_EQ(find(back, "l")->list, (std::vector<std::string>{"1", "22"}));
  ASSERT_NE(find(back, "s"), nullptr);
  EXPECT_EQ(find(back, "s")->section.size(), 1u);
}

TEST(ViciMessage, RejectsMalformedInput) {
  std::vector<std::uint8_t> truncated{3, 1, 'a', 0, 5, 'x'};
  EXPECT_THROW(decode(truncated.data(), truncated.size()), ViciError);
  std::vector<std::uint8_t> unbalanced{2};
  EXPECT_THROW(decode(unbalanced.data(), unbalanced.size()), ViciError);
}

TEST(ViciMessage, BoundsNestingDepth) {
  auto nested = [](int depth) {
    std::vector<std::uint8_t> m;
    for (int i = 0; i < depth; ++i) m.insert(m.end(), {1, 1, 's'});
    for (int i = 0; i < depth; ++i) m.push_back(2);
    return m;
  };
  auto fine = nested(64);
  EXPECT_NO_THROW(decode(fine.data(), fine.size()));
  auto hostile = nested(100000);
  EXPECT_THROW(decode(hostile.data(), hostile.size()), ViciError);
}

const ViciSection& sub(const ViciSection& s, const std::string& name) {
  const ViciItem* item = find(s, name);
  EXPECT_NE(item, nullptr) << name;
  static const ViciSection empty;
  return item ? item->section : empty;
}

TEST(ViciConfig, SeedRuleBecomesOneIkev1ConnectionWithExactLifetimes) {
  auto c = testing::compile(
      "ike dynamic esp from 192.0.2.0/24 to { 198.51.100.0/24, 198.51.200.0/24 } "
      "peer 198.51.100.254 main auth hmac-sha2-256 enc aes-256 group modp2048 lifetime 86400 "
      "quick auth hmac-sha2-256 enc aes-256 group modp2048 lifetime 7200 "
      "srcid gw.example.org psk \"secret\"\n");
  ASSERT_EQ(c.errors, 0) << c.err;
  testing::CapturedStream err;
  Diagnostics diag(err.get());
  auto conns = translate(c.plan, diag);
  ASSERT_TRUE(conns);
  ASSERT_EQ(conns->size(), 1u);
  const ViciConnection& conn = conns->front();
  EXPECT_EQ(conn.name, "peer-198_51_100_254");
  EXPECT_EQ(conn.children.size(), 2u);
  EXPECT_TRUE(conn.children[0].start && conn.children[1].start);
  const ViciSection& body = sub(conn.load_conn, conn.name);
  EXPECT_EQ(value_of(body, "version"), "1");
  EXPECT_EQ(find(body, "proposals")->list.front(), "aes256-sha256-modp2048");
  EXPECT_EQ(value_of(body, "reauth_time"), "77760s");
  EXPECT_EQ(value_of(body, "over_time"), "8640s");
  EXPECT_EQ(value_of(sub(body, "local"), "id"), "gw.example.org");
  const ViciSection& child = sub(sub(body, "children"), conn.children.front().name);
  EXPECT_EQ(find(child, "esp_proposals")->list.front(), "aes256-sha256-modp2048");
  EXPECT_EQ(value_of(child, "life_time"), "7200s");
  EXPECT_EQ(value_of(child, "rekey_time"), "6480s");
  EXPECT_EQ(value_of(child, "dpd_action"), "restart");
  // Started once by ipsecctl, kept by charon: traps restart it on
  // traffic, keyingtries 0 retries for as long as it is loaded.
  EXPECT_EQ(value_of(child, "start_action"), "trap");
  EXPECT_EQ(value_of(child, "close_action"), "restart");
  EXPECT_EQ(value_of(body, "keyingtries"), "0");
  EXPECT_EQ(value_of(body, "dpd_delay"), "5s");
  EXPECT_EQ(find(child, "local_ts")->list.front(), "192.0.2.0/24");
  ASSERT_TRUE(conn.secret);
  EXPECT_EQ(value_of(conn.secret->body, "data"), "secret");
  EXPECT_EQ(conn.secret->base_id, "ike-ipsecctl-peer-198_51_100_254");
}

TEST(ViciConfig, EachSecretIsOwnedByWhatTellsItsPeerApart) {
  // Never by the local identity: every secret would share it, and charon
  // picks the first of equally good matches.
  auto c = testing::compile(
      "ike dynamic esp from 10.0.0.0/24 to 10.1.0.0/24 peer 192.0.2.1 psk \"one\"\n"
      "ike dynamic esp from 10.0.0.0/24 to 10.2.0.0/24 peer 192.0.2.2 psk \"two\"\n"
      "ike esp from 10.0.0.0/24 to 10.3.0.0/24 peer 192.0.2.3 dstid peer3.example psk \"three\"\n");
  ASSERT_EQ(c.errors, 0) << c.err;
  testing::CapturedStream err;
  Diagnostics diag(err.get());
  auto conns = translate(c.plan, diag);
  ASSERT_TRUE(conns);
  ASSERT_EQ(conns->size(), 3u);
  auto owners = [](const ViciConnection& conn) { return find(conn.secret->body, "owners")->list; };
  EXPECT_EQ(owners((*conns)[0]), (std::vector<std::string>{"192.0.2.1"}));
  EXPECT_EQ(owners((*conns)[1]), (std::vector<std::string>{"192.0.2.2"}));
  EXPECT_EQ(owners((*conns)[2]), (std::vector<std::string>{"192.0.2.3", "peer3.example"}));
  EXPECT_EQ(value_of(sub(sub((*conns)[2].load_conn, (*conns)[2].name), "remote"), "id"),
            "peer3.example");
  // Different secrets, different digests, so a changed one is reloaded.
  EXPECT_NE((*conns)[0].secret->digest, (*conns)[1].secret->digest);
  EXPECT_NE((*conns)[0].digest, (*conns)[1].digest);
}

// Exactly one side of a pair starts at once and replaces duplicates; both
// sides must agree without talking, behind a NAT too.
TEST(ViciConfig, TheTwoSidesOfAPairAgreeWhichStartsFirstEvenThroughANat) {
  struct Side {
    const char* rule;
    std::uint8_t source;  // the last byte of the address it sends from
  };
  auto translate_side = [](const Side& side) {
    auto c = testing::compile(side.rule);
    EXPECT_EQ(c.errors, 0) << c.err;
    testing::CapturedStream err;
    Diagnostics diag(err.get());
    auto conns = translate(c.plan, diag, [&](const compiler::IpAddress& peer) {
      compiler::IpAddress a = peer;
      a.bytes[3] = side.source;
      return std::optional<compiler::IpAddress>(a);
    });
    EXPECT_TRUE(conns && !conns->empty()) << err.text();
    if (!conns || conns->empty()) return std::make_pair(std::string(), false);
    const ViciConnection& conn = conns->front();
    return std::make_pair(value_of(sub(conn.load_conn, conn.name), "unique"), conn.defer_start);
  };
  // A hub behind a NAT (its own address 10.0.0.50, known to the branch as
  // 203.0.113.1) and a branch: the networks decide, whatever the addresses.
  const auto hub = translate_side({"ike dynamic esp from 10.0.1.0/24 to 10.0.2.0/24 "
                                   "peer 198.51.100.10 psk \"x\"\n", 50});
  const auto branch = translate_side({"ike dynamic esp from 10.0.2.0/24 to 10.0.1.0/24 "
                                      "peer 203.0.113.1 psk \"x\"\n", 10});
  EXPECT_EQ(hub, std::make_pair(std::string("replace"), false));
  EXPECT_EQ(branch, std::make_pair(std::string("no"), true));
  // Mirror images of one network (host to host over GRE): the addresses.
  const auto low = translate_side({"ike esp from 192.0.2.0/24 to 192.0.2.0/24 "
                                   "peer 192.0.2.2 psk \"x\"\n", 1});
  const auto high = translate_side({"ike esp from 192.0.2.0/24 to 192.0.2.0/24 "
                                    "peer 192.0.2.2 psk \"x\"\n", 3});
  EXPECT_EQ(low, std::make_pair(std::string("replace"), false));
  EXPECT_EQ(high, std::make_pair(std::string("no"), true));
}

TEST(ViciConfig, DefaultsAreIsakmpdsAndPassiveDoesNotStart) {
  auto c = testing::compile("ike passive ah transport from 192.0.2.1 to 192.0.2.2 "
                            "quick group none psk \"x\"\n");
  ASSERT_EQ(c.errors, 0) << c.err;
  testing::CapturedStream err;
  Diagnostics diag(err.get());
  auto conns = translate(c.plan, diag);
  ASSERT_TRUE(conns);
  const ViciConnection& conn = conns->front();
  EXPECT_FALSE(conn.children.front().start);
  const ViciSection& body = sub(conn.load_conn, conn.name);
  EXPECT_EQ(find(body, "proposals")->list.front(), "aes128-sha1-modp3072");
  EXPECT_EQ(value_of(body, "reauth_time"), "3240s");
  const ViciSection& child = sub(sub(body, "children"), conn.children.front().name);
  EXPECT_EQ(value_of(child, "start_action"), "none");
  EXPECT_EQ(find(body, "keyingtries"), nullptr);
  EXPECT_EQ(find(child, "ah_proposals")->list.front(), "sha256");
  EXPECT_EQ(value_of(child, "mode"), "transport");
  EXPECT_EQ(value_of(child, "life_time"), "1200s");
}

TEST(ViciConfig, TagIsIgnoredWithAWarningNatIsRefused) {
  auto c = testing::compile("ike esp from 192.0.2.0/24 to 198.51.100.0/24 peer 192.0.2.9 "
                            "tag blue\n");
  ASSERT_EQ(c.errors, 0) << c.err;
  {
    testing::CapturedStream err;
    Diagnostics diag(err.get());
    diag.intern_file("test.conf");  // as the compiling Diagnostics did
    EXPECT_TRUE(translate(c.plan, diag));
    EXPECT_NE(err.text().find("test.conf: 1: tag blue is ignored: Linux has no PF tags"),
              std::string::npos)
        << err.text();
  }
  auto nat = testing::compile("ike esp from 192.0.2.0/24 (10.0.0.0/24) to 198.51.100.0/24 "
                              "peer 192.0.2.9\n");
  ASSERT_EQ(nat.errors, 0) << nat.err;
  testing::CapturedStream err;
  Diagnostics diag(err.get());
  diag.intern_file("test.conf");
  EXPECT_FALSE(translate(nat.plan, diag));
  EXPECT_NE(err.text().find("NAT hosts"), std::string::npos) << err.text();
}

}  // namespace
}  // namespace ipsecctl::backends::vici
