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

TEST_F(OwnershipStoreFiles, AnUnchangedRecordIsNotRewritten) {
  Diagnostics diag(stderr);
  OwnershipStore store(diag, dir_);
  ASSERT_TRUE(store.save("/etc/a.conf", sample()));
  // A rewrite renames a new file into place: a new inode.
  auto inode = [&] {
    std::string found;
    for (const char* suffix : {".record"}) {
      std::FILE* ls = ::popen(("ls " + dir_ + "/*" + suffix).c_str(), "r");
      char line[512] = {};
      if (ls != nullptr && std::fgets(line, sizeof line, ls) != nullptr) found = line;
      if (ls != nullptr) ::pclose(ls);
    }
    while (!found.empty() && found.back() == '\n') found.pop_back();
    struct stat st {};
    return ::stat(found.c_str(), &st) == 0 ? st.st_ino : 0;
  };
  const auto first = inode();
  ASSERT_NE(first, 0u);
  OwnershipStore again(diag, dir_);
  const OwnedEntries loaded = again.load("/etc/a.conf");
  ASSERT_TRUE(again.save("/etc/a.conf", loaded));
  EXPECT_EQ(inode(), first);
  OwnedEntries changed = loaded;
  changed.add(OwnedKernelEntry{OwnedKind::Policy, 8, 8, 8});
  ASSERT_TRUE(again.save("/etc/a.conf", changed));
  EXPECT_NE(inode(), first);
  EXPECT_EQ(OwnershipStore(diag, dir_).load("/etc/a.conf").kernel.size(), 3u);
}

}  // namespace
}  // namespace ipsecctl::engine
