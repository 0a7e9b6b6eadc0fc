#include "compiler/address.h"

#include <gtest/gtest.h>

namespace ipsecctl::compiler {
namespace {

std::string v6(const char* text) { return format_address(*parse_ipv6(text)); }

TEST(Address, Ipv4StrictDottedQuad) {
  EXPECT_TRUE(parse_ipv4("192.0.2.1"));
  EXPECT_FALSE(parse_ipv4("192.0.2"));
  EXPECT_FALSE(parse_ipv4("192.0.2.256"));
  EXPECT_FALSE(parse_ipv4("192.0.2.01"));  // no leading zeros (octal or decimal?)
  EXPECT_FALSE(parse_ipv4("192.0.2.1 "));
  EXPECT_EQ(format_address(*parse_ipv4("10.0.0.255")), "10.0.0.255");
}

TEST(Address, InetAtonLegacyForms) {
  EXPECT_EQ(format_address(*parse_inet_aton("127.1")), "127.0.0.1");
  EXPECT_EQ(format_address(*parse_inet_aton("10.0.513")), "10.0.2.1");
  EXPECT_EQ(format_address(*parse_inet_aton("0x7f000001")), "127.0.0.1");
  EXPECT_EQ(format_address(*parse_inet_aton("0xff")), "0.0.0.255");
  EXPECT_EQ(format_address(*parse_inet_aton("010.1")), "8.0.0.1");  // octal
  EXPECT_FALSE(parse_inet_aton("0x"));
  EXPECT_FALSE(parse_inet_aton("08.1"));
  EXPECT_FALSE(parse_inet_aton("1.2.3.256"));
  EXPECT_FALSE(parse_inet_aton("1.2.3.4.5"));
  EXPECT_FALSE(parse_inet_aton("1e3"));
  // A part that does not fit is refused, never cut to its low bits.
  EXPECT_FALSE(parse_inet_aton("0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"));
  EXPECT_FALSE(parse_inet_aton("0x100000000"));
  EXPECT_FALSE(parse_inet_aton("4294967296"));
  EXPECT_FALSE(parse_inet_aton("040000000000"));
  EXPECT_FALSE(parse_inet_aton("1.0x1000000"));
  EXPECT_FALSE(parse_inet_aton("0x.1.2.3"));
  EXPECT_EQ(format_address(*parse_inet_aton("4294967295")), "255.255.255.255");
  EXPECT_EQ(format_address(*parse_inet_aton("037777777777")), "255.255.255.255");
  EXPECT_EQ(format_address(*parse_inet_aton("0377.1")), "255.0.0.1");
}

TEST(Address, Ipv6Literals) {
  EXPECT_FALSE(parse_ipv6("00001::1"));  // at most four digits a group
  EXPECT_FALSE(parse_ipv6("1:2:3:4::5:6:7:8"));  // "::" for no group at all
  EXPECT_EQ(v6("::2"), "::2");
  EXPECT_EQ(v6("::1:2"), "::0.1.0.2");
  EXPECT_FALSE(parse_ipv6("1::2::3"));
  EXPECT_FALSE(parse_ipv6("1:2:3:4:5:6:7:8:9"));
  EXPECT_FALSE(parse_ipv6("1:"));
  EXPECT_EQ(v6("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
  EXPECT_FALSE(parse_ipv6("::1.2.3"));
}

TEST(Address, Ipv4NetworkHexForms) {
  EXPECT_EQ(format_prefix(*parse_ipv4_network("0x0a/8")), "10.0.0.0/8");
  EXPECT_EQ(format_prefix(*parse_ipv4_network("0x0a000001/32")), "10.0.0.1");
  EXPECT_EQ(format_prefix(*parse_ipv4_network("0xabc/16")), "171.0.0.0/16");
  EXPECT_FALSE(parse_ipv4_network("0xabc/32"));  // no room left to extend it
  EXPECT_FALSE(parse_ipv4_network("0x0123456789/32"));
}

TEST(Address, Ipv4NetworkShortFormsAndClassfulWidth) {
  auto a = parse_ipv4_network("10.0.2/24");
  ASSERT_TRUE(a);
  EXPECT_EQ(format_prefix(*a), "10.0.2.0/24");
  EXPECT_EQ(format_prefix(*parse_ipv4_network("10/8")), "10.0.0.0/8");
  // Host bits are kept, as on OpenBSD.
  EXPECT_EQ(format_prefix(*parse_ipv4_network("10.1.1.1/24")), "10.1.1.1/24");
  EXPECT_EQ(parse_ipv4_network("10.0.0.1/32")->prefixlen, 32);
  EXPECT_FALSE(parse_ipv4_network("10.0.0.0/33"));
  EXPECT_FALSE(parse_ipv4_network("1.2.3.4.5/32"));
  EXPECT_FALSE(parse_ipv4_network("10.0.0.0/"));
}

TEST(Address, Ipv6TextFormFollowsBsdInetNtop) {
  EXPECT_EQ(v6("3ffe:0:0:0:0:0:0:1"), "3ffe::1");
  EXPECT_EQ(v6("::"), "::");
  EXPECT_EQ(v6("::1"), "::1");
  EXPECT_EQ(v6("1:0:1:1:1:1:1:1"), "1:0:1:1:1:1:1:1");      // a single zero stays
  EXPECT_EQ(v6("1:0:0:1:0:0:1:1"), "1::1:0:0:1:1");         // first of equal runs
  EXPECT_EQ(v6("1:0:0:1:0:0:0:1"), "1:0:0:1::1");           // longest run wins
  EXPECT_EQ(v6("::ffff:10.0.0.1"), "::ffff:10.0.0.1");
  EXPECT_EQ(v6("::10.0.0.2"), "::10.0.0.2");
  EXPECT_EQ(v6("2001:db8::"), "2001:db8::");
  EXPECT_EQ(v6("FE80::ABCD"), "fe80::abcd");
}

TEST(Address, MasksAndContainment) {
  auto a = *parse_ipv4_network("10.1.0.0/16");
  EXPECT_EQ(format_mask(a), "255.255.0.0");
  auto b = *parse_ipv6("3ffe::");
  b.prefixlen = 24;
  EXPECT_EQ(format_mask(b), "ffff:ff00::");
  EXPECT_EQ(format_mask(any_address(Family::Inet6)), "::");
  EXPECT_TRUE(prefix_contains(a, *parse_ipv4("10.1.200.3")));
  EXPECT_FALSE(prefix_contains(a, *parse_ipv4("10.2.0.1")));
  EXPECT_EQ(format_prefix(network_of(*parse_ipv4_network("10.1.1.1/24"))), "10.1.1.0/24");
}

}  // namespace
}  // namespace ipsecctl::compiler
