// The scanner and grammar, observed through what the compiler receives.
#include <gtest/gtest.h>

#include "tests/unit/compile_helper.h"

namespace ipsecctl::testing {
namespace {

TEST(Scanner, NumbersEndOnlyAtBlanksAndPunctuation) {
  // "10m" is a word (a lifetime in minutes), 3600 a number.
  auto r = compile("ike from 1.1.1.1 to 2.2.2.2 main lifetime 10m quick lifetime 3600\n");
  ASSERT_EQ(r.errors, 0) << r.err;
  ASSERT_EQ(r.plan.ikes.size(), 1u);
  EXPECT_EQ(r.plan.ikes[0].phase1.lifetime_seconds, 600);
  EXPECT_EQ(r.plan.ikes[0].phase2.lifetime_seconds, 3600);
}

TEST(Scanner, QuotedStringsAreNeverKeywords) {
  auto r = compile("\"flow\" = \"x\"\nflow esp from 1.1.1.1 to 2.2.2.2 srcid \"peer\"\n");
  ASSERT_EQ(r.errors, 0) << r.err;
  EXPECT_EQ(r.plan.flows[0].srcid->text, "peer");
}

TEST(Scanner, ContinuationLinesReportTheLastLine) {
  auto r = compile("\n\nflow esp from 1.1.1.1 \\\n to 2.2.2.0/24 \\\n\n");
  EXPECT_EQ(r.err, "test.conf: 5: no peer specified for destination 2.2.2.0/24\n");
}

TEST(Scanner, QuotedStringErrorsNameTheLineTheStringStarted) {
  auto r = compile("a = \"1\"\nb = \"open\n\n\n");
  EXPECT_EQ(r.err,
            "test.conf: 2: reached end of file while parsing quoted string\n"
            "test.conf: 2: syntax error\n");
}

TEST(Scanner, MacrosAreNotExpandedRecursively) {
  auto r = compile("a = \"$b\"\nb = \"1.1.1.1\"\nflow esp from $a to 2.2.2.2\n");
  EXPECT_EQ(r.err, "test.conf: 3: syntax error\n");
  EXPECT_TRUE(r.plan.flows.empty());
}

TEST(Scanner, MacroValuesAreReadAgainAsTokens) {
  auto r = compile("nets = \"{ 10.1.0.0/16 10.2.0.0/16 }\"\nspec = \"esp from\"\n"
                   "flow $spec $nets to 10.3.0.0/16 peer 192.0.2.1\n");
  ASSERT_EQ(r.errors, 0) << r.err;
  EXPECT_EQ(r.plan.flows.size(), 4u);
}

TEST(Scanner, UndefinedMacroIsNamed) {
  auto r = compile("flow esp from $missing to 2.2.2.2\n");
  EXPECT_EQ(r.err, "test.conf: 1: macro 'missing' not defined\ntest.conf: 1: syntax error\n");
}

TEST(Scanner, OverlongWordsAreRefusedWithoutCrashing) {
  std::string word(20000, 'a');
  auto r = compile("flow esp from " + word + " to 2.2.2.2\nflow esp from 1.1.1.1 to 3.3.3.3\n");
  EXPECT_NE(r.err.find("test.conf: 1: string too long"), std::string::npos) << r.err;
}

TEST(Scanner, BinaryJunkIsASyntaxError) {
  auto r = compile(std::string("flow\0\x01\xfe esp\n", 11));
  EXPECT_EQ(r.err, "test.conf: 1: syntax error\n");
}

TEST(Grammar, PartsArePositional) {
  // psk must come after the phases.
  auto r = compile("ike from 1.1.1.1 to 2.2.2.2 psk x main auth hmac-sha1\n");
  EXPECT_EQ(r.err, "test.conf: 1: syntax error\n");
}

TEST(Grammar, ErrorRecoverySkipsToTheEndOfTheLine) {
  auto r = compile("flow esp frm 1.1.1.1\n\nflow esp from 1.1.1.1 to 2.2.2.2\n");
  EXPECT_EQ(r.err, "test.conf: 1: syntax error\n");
  EXPECT_EQ(r.plan.flows.size(), 2u);
}

TEST(Grammar, MacroNamesCannotContainWhitespace) {
  auto r = compile("\"a b\" = c\n");
  EXPECT_EQ(r.out, "a b = \"c\"\n");  // echoed before the check, as OpenBSD does
  EXPECT_EQ(r.err, "test.conf: 1: macro name cannot contain whitespace\n");
}

}  // namespace
}  // namespace ipsecctl::testing
