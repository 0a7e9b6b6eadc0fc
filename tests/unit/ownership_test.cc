// The records of what each file loaded: text form, files, and the rules
// that make a reload a sync (what another file claims stays).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/ownership_store.h"

namespace ipsecctl::engine {
namespace {

using backends::OwnedEntries;
using backends::OwnedEntry;
using backends::OwnedKernelEntry;
using backends::OwnedKind;

OwnedEntries sample() {
  OwnedEntries e;
  e.add(OwnedKernelEntry{OwnedKind::Policy, 0x0123456789abcdefULL, 0xfedcba9876543210ULL, 42});
  e.add(OwnedKernelEntry{OwnedKind::State, 1, 2, 3});
  e.add(OwnedEntry{OwnedKind::ViciConnection, "peer-192.0.2.1", 7, "0a0b"});
  e.add(OwnedEntry{OwnedKind::ViciSecret, "ipsecctl-peer-192.0.2.1#2", 9, ""});
  // Blanks, percent signs and line ends survive the text form.
  e.add(OwnedEntry{OwnedKind::IsakmpdRule, "from a to b", 11, "t x\nC rms [x]\n100%"});
  return e;
}

TEST(OwnershipRecord, RoundTripsThroughItsTextForm) {
  const OwnedEntries in = sample();
  const std::string text = OwnershipStore::serialize("/etc/ipsec conf", in);
  auto out = OwnershipStore::parse(text);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->first, "/etc/ipsec conf");
  ASSERT_EQ(out->second.kernel.size(), 2u);
  EXPECT_EQ(out->second.kernel[0].identity_hi, 0x0123456789abcdefULL);
  EXPECT_EQ(out->second.kernel[0].identity_lo, 0xfedcba9876543210ULL);
  EXPECT_EQ(out->second.kernel[0].digest, 42u);
  EXPECT_EQ(out->second.kernel[1].kind, OwnedKind::State);
  ASSERT_EQ(out->second.entries.size(), 3u);
  EXPECT_EQ(out->second.entries[2].key, "from a to b");
  EXPECT_EQ(out->second.entries[2].payload, "t x\nC rms [x]\n100%");
  EXPECT_EQ(out->second.entries[1].payload, "");
}

TEST(OwnershipRecord, RefusesWhatIsNotARecord) {
  EXPECT_FALSE(OwnershipStore::parse(""));
  EXPECT_FALSE(OwnershipStore::parse("hello\n"));
  std::string text = OwnershipStore::serialize("/x", sample());
  EXPECT_FALSE(OwnershipStore::parse(text + "policy zz 00\n"));
  EXPECT_FALSE(OwnershipStore::parse(text + "flavour abc 00\n"));
}

class OwnershipStoreFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ipsecctl-ownership-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string dir_;
};

TEST_F(OwnershipStoreFiles, KeepsOneRecordPerSourceAndOthersAreTheRest) {
  Diagnostics diag(stderr);
  OwnershipStore store(diag, dir_ + "/net-1");
  OwnedEntries a = sample();
  OwnedEntries b;
  b.add(OwnedKernelEntry{OwnedKind::Policy, 5, 6, 7});
  ASSERT_TRUE(store.save("/etc/a.conf", a));
  ASSERT_TRUE(store.save("/etc/b.conf", b));
  EXPECT_EQ(store.load("/etc/a.conf").kernel.size(), 2u);
  EXPECT_EQ(store.others("/etc/a.conf").kernel.size(), 1u);
  EXPECT_EQ(store.others("/etc/b.conf").entries.size(), 3u);
  EXPECT_EQ(store.sources().size(), 2u);
  // The directory is private: records name what a file loaded.
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/net-1").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // Saving nothing removes the record.
  ASSERT_TRUE(store.save("/etc/a.conf", OwnedEntries{}));
  EXPECT_TRUE(store.load("/etc/a.conf").empty());
  EXPECT_EQ(store.sources().size(), 1u);
}

// An unchanged reload writes nothing because what it owns compares equal
// to what the record gave back (engine/session): a saved record must read
// back as exactly what was saved, piece by piece as large files are read.
TEST_F(OwnershipStoreFiles, ARecordReadsBackAsWhatWasSaved) {
  Diagnostics diag(stderr);
  OwnershipStore store(diag, dir_);
  OwnedEntries big = sample();
  for (std::uint64_t i = 0; i < 5000; ++i)  // several 64 KiB pieces
    big.add(OwnedKernelEntry{OwnedKind::Policy, i * 7919, i, i ^ 0x5555});
  ASSERT_TRUE(store.save("/etc/a.conf", big));
  const OwnedEntries loaded = OwnershipStore(diag, dir_).load("/etc/a.conf");
  EXPECT_TRUE(loaded == big);
  OwnedEntries changed = loaded;
  changed.add(OwnedKernelEntry{OwnedKind::Policy, 8, 8, 8});
  EXPECT_FALSE(changed == loaded);
  ASSERT_TRUE(store.save("/etc/a.conf", changed));
  EXPECT_TRUE(OwnershipStore(diag, dir_).load("/etc/a.conf") == changed);
}

}  // namespace
}  // namespace ipsecctl::engine
