// The quick first pass that decides whether a load may start sending before
// the compile ends: it must find every syntax error the real parse finds,
// count rules by kind, and resolve nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "compiler/syntax_check.h"

namespace ipsecctl::compiler {
namespace {

class SyntaxCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/ipsecctl-syntax-XXXXXX";
    const int fd = ::mkstemp(name);
    ASSERT_GE(fd, 0);
    ::close(fd);
    path_ = name;
  }
  void TearDown() override { std::remove(path_.c_str()); }

  SyntaxShape check(const std::string& text, bool flows_only = false,
                    const std::vector<std::string>& defines = {}) {
    std::FILE* f = std::fopen(path_.c_str(), "w");
    std::fputs(text.c_str(), f);
    std::fclose(f);
    return check_syntax(path_, defines, flows_only);
  }

  std::string path_;
};

TEST_F(SyntaxCheck, CountsRulesByKindInACleanFile) {
  const SyntaxShape shape = check(
      "gw = \"192.0.2.1\"\n"
      "flow esp from 10.0.0.1 to 10.0.0.2 peer $gw\n"
      "flow esp from { 10.1.0.0/16, 10.2.0.0/16 } to any type bypass\n"
      "esp from 192.0.2.1 to 192.0.2.2 spi 0x1000 auth hmac-sha1 enc aes "
      "authkey 0x0102030405060708090a0b0c0d0e0f1011121314 enckey 0x000102030405060708090a0b0c0d0e0f\n"
      "ike esp from 10.0.0.0/24 to 10.9.0.0/24 peer 192.0.2.9 psk \"s\"\n");
  EXPECT_TRUE(shape.clean);
  EXPECT_EQ(shape.flow_rules, 2u);
  EXPECT_EQ(shape.sa_rules, 1u);
  EXPECT_EQ(shape.ike_rules, 1u);
}

TEST_F(SyntaxCheck, FindsASyntaxErrorOnTheLastLine) {
  EXPECT_FALSE(check("flow esp from 10.0.0.1 to 10.0.0.2\nflow esp from 10.0.0.1 to\n").clean);
  EXPECT_FALSE(check("flow esp form 10.0.0.1 to 10.0.0.2\n").clean);
  EXPECT_FALSE(check("flow esp from $undefined to 10.0.0.2\n").clean);
}

TEST_F(SyntaxCheck, ResolvesNothingSoMeaningErrorsPass) {
  // The real compile refuses this address; the first pass only sees words.
  const SyntaxShape shape = check("flow esp from 10.0.0.1 to 10.0.0.300\n");
  EXPECT_TRUE(shape.clean);
  EXPECT_EQ(shape.flow_rules, 1u);
}

TEST_F(SyntaxCheck, FlowsOnlyStopsAtTheFirstOtherRule) {
  const SyntaxShape shape =
      check("flow esp from 10.0.0.1 to 10.0.0.2\n"
            "ike esp from 10.0.0.0/24 to 10.9.0.0/24 peer 192.0.2.9\n"
            "flow esp from 10.0.0.3 to 10.0.0.4\n",
            true);
  EXPECT_FALSE(shape.clean);
  EXPECT_EQ(shape.ike_rules, 1u);
  EXPECT_EQ(shape.flow_rules, 1u);  // it stopped there
}

TEST_F(SyntaxCheck, TakesMacrosFromTheCommandLine) {
  EXPECT_TRUE(check("flow esp from $a to 10.0.0.2\n", false, {"a=10.0.0.1"}).clean);
}

TEST(SyntaxCheckFile, AMissingFileIsNotClean) {
  EXPECT_FALSE(check_syntax("/nonexistent/ipsec.conf", {}).clean);
}

}  // namespace
}  // namespace ipsecctl::compiler
