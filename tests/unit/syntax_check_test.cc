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
                    const std::vector<std::string>& defines = {}, unsigned threads = 1) {
    std::FILE* f = std::fopen(path_.c_str(), "w");
    std::fputs(text.c_str(), f);
    std::fclose(f);
    return check_syntax(path_, defines, flows_only, threads);
  }

  // The same answer read whole and by 2, 3 and 4 threads (in pieces).
  void expect_same_in_pieces(const std::string& text, bool clean, const std::string& what) {
    const SyntaxShape whole = check(text);
    EXPECT_EQ(whole.clean, clean) << what;
    for (unsigned pieces : {2u, 3u, 4u}) {
      const SyntaxShape shape = check(text, false, {}, pieces);
      EXPECT_EQ(shape.clean, whole.clean) << what << " in " << pieces << " pieces";
      if (whole.clean) {
        EXPECT_EQ(shape.flow_rules, whole.flow_rules) << what << " in " << pieces << " pieces";
        EXPECT_EQ(shape.sa_rules, whole.sa_rules) << what;
        EXPECT_EQ(shape.ike_rules, whole.ike_rules) << what;
      }
    }
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

// About 1.2 MB of flows (large enough to be read in pieces), numbered.
std::string many_lines(std::size_t n = 24000) {
  std::string text;
  for (std::size_t i = 0; i < n; ++i)
    text += "flow esp from 10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) +
            " to 192.0.2.2 peer $gw\n";
  return text;
}

// Puts `inserted` in front of the line that holds byte `at`.
std::string insert_at_line(std::string text, std::size_t at, const std::string& inserted) {
  const std::size_t line = text.rfind('\n', at);
  text.insert(line == std::string::npos ? 0 : line + 1, inserted);
  return text;
}

TEST_F(SyntaxCheck, PiecesSeeTheMacrosOfThePiecesBeforeThem) {
  // Defined twice in the first lines: the pieces after them need the second.
  const std::string text = "gw = \"from to\"\ngw = \"192.0.2.1\"\n" + many_lines();
  expect_same_in_pieces(text, true, "macros from the top");
  const SyntaxShape shape = check(text, true, {}, 4);
  EXPECT_TRUE(shape.clean);
  EXPECT_EQ(shape.flow_rules, 24000u);
  EXPECT_EQ(shape.pieces, 4u);
  // Redefined half way: the later half reads the new value.
  std::string redefined = insert_at_line(text, text.size() / 2, "gw = \"peer\"\n");
  expect_same_in_pieces(redefined, false, "a macro made bad half way");
  // -D wins over the file in every piece.
  EXPECT_TRUE(check(redefined, true, {"gw=192.0.2.9"}, 4).clean);
}

TEST_F(SyntaxCheck, PiecesFindAnErrorWhereverItIs) {
  const std::string text = "gw = \"192.0.2.1\"\n" + many_lines();
  for (std::size_t at : {text.size() / 10, text.size() / 2 - 1, text.size() / 2,
                         text.size() / 3 * 2, text.size() - 2})
    expect_same_in_pieces(insert_at_line(text, at, "flow esp from\n"), false,
                          "an error near byte " + std::to_string(at));
}

TEST_F(SyntaxCheck, ACutInsideAStatementReadsTheFileAgainWhole) {
  const std::string text = "gw = \"192.0.2.1\"\n" + many_lines();
  // A quoted string that runs over lines, across where two pieces are cut
  // (in the middle of the text with it; under 8 KiB, the longest word).
  std::string quoted = "long = \"";
  for (int i = 0; i < 700; ++i) quoted += "word" + std::to_string(i) + "\n";
  quoted += "\"\n";
  const std::string with_quoted = insert_at_line(text, text.size() / 2, quoted);
  expect_same_in_pieces(with_quoted, true, "a quoted string over lines");
  EXPECT_EQ(check(with_quoted, false, {}, 2).pieces, 1u) << "read again whole";
  // Statements continued with a backslash, and a comment that runs on.
  std::string continued;
  for (int i = 0; i < 300; ++i) continued += "flow esp from 10.9.0.1 \\\n to 10.9.0.2 \\\n peer $gw\n";
  expect_same_in_pieces(insert_at_line(text, text.size() / 2 - 4000, continued), true,
                        "continued lines");
  std::string comment = "# a comment \\\n";
  for (int i = 0; i < 300; ++i) comment += "flow esp from \\\n";
  comment += "end of the comment\n";
  expect_same_in_pieces(insert_at_line(text, text.size() / 2 - 3000, comment), true,
                        "a comment over lines");
  // A statement split over the cut that is wrong only as a whole.
  std::string broken = "flow esp from 10.9.0.1 \\\n";
  for (int i = 0; i < 300; ++i) broken += "\\\n";
  broken += "to\n";
  expect_same_in_pieces(insert_at_line(text, text.size() / 2 - 500, broken), false,
                        "a broken statement over lines");
}

TEST_F(SyntaxCheck, PiecesStopAtARuleThatIsNotAFlow) {
  const std::string text = "gw = \"192.0.2.1\"\n" + many_lines();
  const std::string with_ike =
      insert_at_line(text, text.size() / 4 * 3, "ike esp from 10.0.0.0/24 to 10.9.0.0/24 peer 192.0.2.9\n");
  EXPECT_FALSE(check(with_ike, true, {}, 4).clean);
  EXPECT_TRUE(check(with_ike, false, {}, 4).clean);
  EXPECT_EQ(check(with_ike, false, {}, 4).ike_rules, 1u);
}

TEST(SyntaxCheckFile, AMissingFileIsNotClean) {
  EXPECT_FALSE(check_syntax("/nonexistent/ipsec.conf", {}).clean);
}

}  // namespace
}  // namespace ipsecctl::compiler
