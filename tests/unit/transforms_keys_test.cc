#include <gtest/gtest.h>

#include "compiler/keys.h"
#include "compiler/transforms.h"
#include "common/diagnostics.h"
#include "parser/macro_table.h"

namespace ipsecctl::compiler {
namespace {

TEST(Transforms, NamesMatchTheFirstEntryWithThatPrefix) {
  EXPECT_EQ(find_enc("3des")->name, "3des-cbc");
  EXPECT_EQ(find_enc("aes")->name, "aes");
  EXPECT_EQ(find_enc("aes-1")->name, "aes-128");
  EXPECT_EQ(find_enc("aes-128-")->name, "aes-128-ctr");
  EXPECT_EQ(find_auth("hmac-sha2")->name, "hmac-sha2-256");
  EXPECT_EQ(find_group("grp")->name, "grp1");
  EXPECT_EQ(find_group("modp2048")->isakmpd_name, "MODP_2048");
  EXPECT_EQ(find_enc("n")->name, "none");
  EXPECT_EQ(find_auth("u")->name, "unknown");
  EXPECT_EQ(find_enc("des-cbc"), nullptr);
  EXPECT_EQ(find_group("ecp192"), nullptr);  // removed from OpenBSD in 2025
}

TEST(Transforms, KeySizesIncludeTheNonce) {
  EXPECT_EQ(find_enc("aes-256-gcm")->key_min, 36u);
  EXPECT_TRUE(find_enc("aes-256-gcm")->noauth);
  EXPECT_TRUE(find_enc("aesctr")->nostatic);
  EXPECT_FALSE(find_enc("aes")->nostatic);
  EXPECT_EQ(find_auth("hmac-sha2-384")->key_bytes, 48u);
}

TEST(Keys, TwoHexDigitsPerByteAndAnOddTailIsIgnored) {
  int bad = 0;
  auto key = parse_hex_key("00ffA5c", [&] { ++bad; });
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(key, (std::vector<std::uint8_t>{0x00, 0xff, 0xa5}));
  EXPECT_EQ(format_hex_key(key), "00ffa5");
}

TEST(Keys, EveryBadPairIsReported) {
  int bad = 0;
  auto key = parse_hex_key("zz00gg", [&] { ++bad; });
  EXPECT_EQ(bad, 2);
  EXPECT_EQ(key.size(), 3u);
}

TEST(Keys, KeyFilesAreCheckedForSize) {
  EXPECT_THROW(read_key_file("/nonexistent/key", [] {}), ipsecctl::FatalError);
  EXPECT_THROW(read_key_file("/dev/null", [] {}), ipsecctl::FatalError);  // empty: too small
}

TEST(Macros, CommandLineDefinitionsPersistAndSplitAtTheLastEquals) {
  parser::MacroTable m;
  ASSERT_TRUE(m.define_from_command_line("a=b=c"));
  EXPECT_FALSE(m.define_from_command_line("novalue"));
  m.define("a=b", "file", false);  // cannot override a -D definition
  EXPECT_EQ(*m.use("a=b"), "c");
  m.define("x", "1", false);
  m.define("x", "2", false);
  EXPECT_EQ(m.unused(), std::vector<std::string>{"x"});
  EXPECT_EQ(*m.use("x"), "2");
  EXPECT_TRUE(m.unused().empty());
  EXPECT_FALSE(m.use("nothing"));
}

}  // namespace
}  // namespace ipsecctl::compiler
