// The lexer takes runs of plain characters from its buffer in one step
// (parser/lexer.h). These tests hold that quick way to the step-by-step
// way on inputs built to reach every branch where they could part: a run
// cut by the end of a block, digits that turn out to be a word,
// backslashes, comments continued on the next line, macros, runs longer
// than OpenBSD's pushback buffer or its word limit. Both ways must give
// the same rules, the same messages on the same lines, the same count.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/compile_helper.h"

namespace ipsecctl::testing {
namespace {

struct BothWays {
  Compiled quick;
  Compiled step;
};

// With carets, messages show the source line and the columns of the
// offending word, so the two ways must also agree on where each lies.
BothWays compile_both(const std::string& text, bool carets) {
  FakeResolver resolver;
  parser::ParseOptions quick, step;
  step.quick_scanning = false;
  return {compile(text, resolver, {}, true, quick, carets),
          compile(text, resolver, {}, true, step, carets)};
}

void expect_same(const std::string& text, const std::string& what) {
  parser::ParseOptions quick, step;
  step.quick_scanning = false;
  for (const bool carets : {false, true}) {
    const BothWays r = compile_both(text, carets);
    EXPECT_EQ(r.quick.out, r.step.out) << what;
    EXPECT_EQ(r.quick.err, r.step.err) << what;
    EXPECT_EQ(r.quick.errors, r.step.errors) << what;
    EXPECT_EQ(r.quick.plan.flows.size(), r.step.plan.flows.size()) << what;
    // Messages wait for their source line to be read whole: the two ways
    // must also agree on when a line ends, which only one stream for both
    // outputs shows (a word's last line: the fuzzer found it).
    EXPECT_EQ(transcript(text, quick, carets), transcript(text, step, carets)) << what;
  }
}

// Lines where the two ways could differ, each valid or broken on purpose.
const std::vector<std::string>& tricky_lines() {
  static const std::vector<std::string> lines = {
      "flow esp from 10.1.2.3 to 172.16.0.1 peer 192.0.2.1\n",
      "flow esp from 10.0.0.0/8 to 172.16.0.0/12 peer 192.0.2.1\n",
      "flow esp proto tcp from 10.0.0.1 port 22 to 10.0.0.2 port 1024 peer 192.0.2.1\n",
      "ike esp from 10.0.0.1 to 10.0.0.2 main lifetime 10m quick lifetime 3600 psk \"s e\"\n",
      "ike esp from 10.0.0.1 to 10.0.0.2 main lifetime 10m quick lifetime -3600\n",
      "flow esp from 10.0.0.1 \\\n to 10.0.0.2 peer 192.0.2.1\n",
      "flow esp from 10.0.0.\\\n1 to 10.0.0.2 peer 1\\92.0.2.1\n",
      "# a comment \\\n that goes on\n",
      "# a comment with 123abc and -5 and \"quotes\n",
      "a = \"10.9.9.9\"\nflow esp from $a to 10.0.0.2 peer 192.0.2.1\n",
      "b = \"10.9.9\"\nflow esp from $b.9 to 10.0.0.2 peer 192.0.2.1\n",
      "flow esp from 123abc to 10.0.0.2 peer 192.0.2.1\n",
      "flow esp from -5 to - peer -\n",
      "flow esp from 10.0.0.1 to 10.0.0.2 peer 192.0.2.1 # trailing\n",
      "flow esp from 99999999999999999999 to 1 peer 2\n",
      "flow esp from " + std::string(130, '7') + "x to 10.0.0.2 peer 192.0.2.1\n",
      "flow esp from " + std::string(99, '7') + "x to 10.0.0.2 peer 192.0.2.1\n",
      "flow esp from " + std::string(101, '7') + " to 10.0.0.2 peer 192.0.2.1\n",
      "flow esp from " + std::string(8094, 'w') + " to 10.0.0.2 peer 192.0.2.1\n",
      "flow esp from " + std::string(8095, 'w') + " to 10.0.0.2 peer 192.0.2.1\n",
      "flow esp from " + std::string(8200, 'w') + " to 10.0.0.2 peer 192.0.2.1\n",
      "flow esp from {10.0.0.1,10.0.0.2} to {10.1.0.1 10.1.0.2} peer 192.0.2.1\n",
      "flow esp from 10.0.0.1 to 10.0.0.2 peer 192.0.2.1 srcid me@example.org dstid 'x y'\n",
      "flow\tesp\t\tfrom 10.0.0.1   to\t10.0.0.2 peer 192.0.2.1\r\n",
      "flow esp from 10.0.0.1 to 10.0.0.2 peer 192.0.2.1",  // no newline at the end
      "flow esp from 10.0.0.1:22 to a*b_c peer x=1\n",
      "include \"/nonexistent/file\"\n",
      "flow esp from 10.0.0.1 to 10.0.0.2 peer 192.0.2.1 \\",
      // A rule printed while a message about its last line waits for that
      // line to end (found by the fuzzer): the word `x` ends the line.
      "from 1.2 to 1.0 spi 0x101 auth hm enc ca\tauthkey 00112233445566778899aabbccddeeef"
      "\tenckey 00~~~~~~~~ bundle x\n",
      "from 1.2 to 1.0 spi 0x101 auth hm enc ca\tauthkey 00112233445566778899aabbccddeeef"
      "\tenckey 00~~~~~~~~ bundle 7\n",
  };
  return lines;
}

TEST(QuickScanning, AgreesOnEachTrickyLine) {
  for (const std::string& line : tricky_lines()) expect_same(line, line.substr(0, 80));
}

// The quick way stops at the end of what is buffered. With blocks of a
// few bytes, that end falls everywhere: inside words, numbers, blanks and
// comments, on backslashes and newlines.
TEST(QuickScanning, AgreesWhateverTheBlockSize) {
  parser::ParseOptions step;
  step.quick_scanning = false;
  for (const std::string& line : tricky_lines()) {
    const std::string text = line + "flow esp from 10.0.0.1 to 10.0.0.9 peer 192.0.2.1\n" + line;
    for (const bool carets : {false, true}) {
      const std::string expected = transcript(text, step, carets);
      for (const std::size_t block : {1ul, 2ul, 3ul, 5ul, 7ul, 13ul, 64ul}) {
        parser::ParseOptions quick;
        quick.read_block_size = block;
        EXPECT_EQ(transcript(text, quick, carets), expected)
            << "blocks of " << block << ": " << line.substr(0, 60);
      }
    }
  }
}

// Random sequences of fragments: the kinds of bytes the two ways treat
// differently, thrown together (a fixed seed, so a failure repeats).
TEST(QuickScanning, AgreesOnRandomMixtures) {
  const std::vector<std::string> fragments = {
      "flow", "esp", "from", "to", "peer", "10.0.0.1", "10", "10m", "-", "-7", "123abc",
      "\\\n", "\\", "\\x", "#c \\\n", "# c\n", "$m", "$mm", "\"q q\"", "'q", "{", "}", ",",
      "/24", "/", "=", "m = \"10.2.3.4\"\n", "mm = \"1 2\"\n", " ", "\t", "\n", "\r",
      std::string(128, '9'), std::string(60, '9'), "ike", "main", "lifetime", "quick", "0x1f",
      "port", "22", "proto", "tcp", "any", "\x01", "\xff"};
  std::mt19937 random(20261129);
  std::uniform_int_distribution<std::size_t> pick(0, fragments.size() - 1);
  std::uniform_int_distribution<int> length(1, 40);
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const int n = length(random);
    for (int i = 0; i < n; ++i) {
      text += fragments[pick(random)];
      if (random() % 3 == 0) text += ' ';
    }
    expect_same(text, "round " + std::to_string(round) + ": " + text);
    if (::testing::Test::HasFailure()) return;
  }
}

// Files are read with read(2), strings with stdio: the same answers.
TEST(QuickScanning, AFileReadsAsTheSameTextDoes) {
  char path[] = "/tmp/ipsecctl-quick-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::string text;
  for (int i = 0; text.size() < 3 * (1u << 16); ++i)
    text += "flow esp from 10." + std::to_string(i / 250 % 250) + "." + std::to_string(i % 250) +
            ".1 to 172.16.0.1 peer 192.0.2.1\n" + (i % 7 == 0 ? "# note \\\n more\n" : "");
  std::ofstream(path) << text;
  FakeResolver resolver;
  const Compiled from_text = compile(text, resolver);
  Compiled from_file;
  {
    CapturedStream out, err;
    Diagnostics diagnostics(err.get());
    output::RulePrinter printer(out.get(), resolver, diagnostics, {});
    compiler::RuleCompiler rules(resolver, diagnostics, from_file.plan, &printer);
    parser::MacroTable macros;
    parser::ParseOptions options;
    options.check_file_secrecy = false;
    parser::ParseDriver driver(rules, diagnostics, macros, options);
    EXPECT_TRUE(driver.parse(path));
    from_file.out = out.text();
    from_file.err = err.text();
  }
  ::unlink(path);
  const std::string prefix = std::string(path) + ":";
  EXPECT_EQ(from_file.out, from_text.out);
  EXPECT_EQ(from_file.plan.flows.size(), from_text.plan.flows.size());
  EXPECT_GT(from_text.plan.flows.size(), 1000u);
  EXPECT_EQ(from_text.err, "");
  EXPECT_EQ(from_file.err, "");
}

}  // namespace
}  // namespace ipsecctl::testing
