// isakmpd's key layout read for charon (backends/keys): which key and
// certificate a rule without psk signs with, how its peer is checked, and
// every key that cannot work refused with its path at the rule. The keys
// and certificates are made here with OpenSSL, in a folder of the test's.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "backends/keys/key_directory.h"
#include "backends/vici/vici_config.h"
#include "tests/unit/compile_helper.h"

namespace ipsecctl::testing {
namespace {

namespace fs = std::filesystem;
using backends::keys::KeyDirectory;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* c) const { X509_free(c); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

constexpr std::time_t kNow = 1800000000;  // 2027-01-15
constexpr long kDay = 86400;

// 1024 bits: made in a few milliseconds, and nothing here is secret.
Pkey rsa_key() { return Pkey(EVP_RSA_gen(1024)); }
Pkey ec_key() { return Pkey(EVP_EC_gen("P-256")); }

void write_file(const fs::path& path, const std::string& text, fs::perms mode = fs::perms(0600)) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
  fs::permissions(path, mode);
}

template <typename F>
std::string pem_of(F&& write) {
  std::unique_ptr<BIO, decltype(&BIO_free)> b(BIO_new(BIO_s_mem()), BIO_free);
  write(b.get());
  char* data = nullptr;
  const long n = BIO_get_mem_data(b.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string private_pem(EVP_PKEY* k) {
  return pem_of([&](BIO* b) { PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr); });
}
std::string public_pem(EVP_PKEY* k) {
  return pem_of([&](BIO* b) { PEM_write_bio_PUBKEY(b, k); });
}
std::string cert_pem(X509* c) {
  return pem_of([&](BIO* b) { PEM_write_bio_X509(b, c); });
}

// A certificate for `key` named `cn`, with subjectAltName `san` (none
// when empty), signed by `issuer_key` as `issuer` (itself when null),
// valid from `from` for `days`.
Cert certificate(EVP_PKEY* key, const std::string& cn, const std::string& san, EVP_PKEY* issuer_key,
                 X509* issuer, std::time_t from, long days, bool ca = false) {
  Cert c(X509_new());
  X509_set_version(c.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c.get()), static_cast<long>(from % 100000));
  X509_time_adj_ex(X509_getm_notBefore(c.get()), 0, 0, &from);
  X509_time_adj_ex(X509_getm_notAfter(c.get()), static_cast<int>(days), 0, &from);
  X509_set_pubkey(c.get(), key);
  X509_NAME* name = X509_get_subject_name(c.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(c.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : c.get(), c.get(), nullptr, nullptr, 0);
  auto add = [&](int nid, const char* value) {
    X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(c.get(), e, -1);
    X509_EXTENSION_free(e);
  };
  if (ca) add(NID_basic_constraints, "critical,CA:TRUE");
  if (!san.empty()) add(NID_subject_alt_name, san.c_str());
  X509_sign(c.get(), issuer_key, EVP_sha256());
  return c;
}

class KeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("ipsecctl-keys-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // private/local.key and local.pub, as OpenBSD's rc makes them.
  EVP_PKEY* host_key(Pkey key = rsa_key()) {
    host_ = std::move(key);
    write_file(root_ / "private/local.key", private_pem(host_.get()));
    write_file(root_ / "local.pub", public_pem(host_.get()), fs::perms(0644));
    return host_.get();
  }
  void ca() {
    ca_key_ = rsa_key();
    ca_ = certificate(ca_key_.get(), "lab CA", "", ca_key_.get(), nullptr, kNow - kDay, 365, true);
    write_file(root_ / "ca/ca.crt", cert_pem(ca_.get()), fs::perms(0644));
  }
  void host_cert(const std::string& san, std::time_t from = kNow - kDay, long days = 30) {
    Cert c = certificate(host_.get(), "gw", san, ca_key_.get(), ca_.get(), from, days);
    write_file(root_ / "certs/gw.crt", cert_pem(c.get()), fs::perms(0644));
  }
  std::string path(const std::string& p) const { return (root_ / p).string(); }

  fs::path root_;
  Pkey host_, ca_key_;
  Cert ca_;
  Diagnostics diag_{nullptr};
  SourceLocation here_{};
};

TEST_F(KeysTest, RawKeysAsIsakmpdHasThem) {
  host_key();
  Pkey peer = rsa_key();
  write_file(root_ / "pubkeys/ipv4/192.0.2.2", public_pem(peer.get()), fs::perms(0644));
  KeyDirectory keys(root_.string(), kNow);
  auto local = keys.local("192.0.2.1", here_, diag_);
  ASSERT_TRUE(local);
  EXPECT_EQ(local->key_type, "rsa");
  EXPECT_FALSE(local->certificate);
  ASSERT_TRUE(local->public_key);
  EXPECT_EQ(local->public_key->path, path("local.pub"));
  auto remote = keys.peer("192.0.2.2", compiler::IdType::Ipv4, here_, diag_);
  ASSERT_TRUE(remote);
  ASSERT_TRUE(remote->public_key);
  EXPECT_EQ(remote->public_key->path, path("pubkeys/ipv4/192.0.2.2"));
  EXPECT_EQ(diag_.error_count(), 0);
}

TEST_F(KeysTest, EcdsaKeysToo) {
  host_key(ec_key());
  KeyDirectory keys(root_.string(), kNow);
  auto local = keys.local("", here_, diag_);
  ASSERT_TRUE(local);
  EXPECT_EQ(local->key_type, "ecdsa");
}

TEST_F(KeysTest, APrivateKeyOthersCanReadIsRefused) {
  host_key();
  fs::permissions(root_ / "private/local.key", fs::perms(0644));
  CapturedStream err;
  Diagnostics diag(err.get());
  KeyDirectory keys(root_.string(), kNow);
  EXPECT_FALSE(keys.local("", here_, diag));
  EXPECT_NE(err.text().find(path("private/local.key") + " (this host's private key: a rule "
                            "without psk signs with it) can be read or written by others "
                            "(mode 0644)"),
            std::string::npos)
      << err.text();
}

TEST_F(KeysTest, KeysThatCannotWorkNameTheirFile) {
  write_file(root_ / "private/local.key", "not a key\n");
  CapturedStream err;
  Diagnostics diag(err.get());
  KeyDirectory keys(root_.string(), kNow);
  EXPECT_FALSE(keys.local("", here_, diag));
  EXPECT_NE(err.text().find(path("private/local.key") +
                            " (this host's private key: a rule without psk signs with it) is "
                            "not a private key in PEM form"),
            std::string::npos)
      << err.text();
  // A local.pub of another key.
  host_key();
  Pkey other = rsa_key();
  write_file(root_ / "local.pub", public_pem(other.get()), fs::perms(0644));
  KeyDirectory again(root_.string(), kNow);
  EXPECT_FALSE(again.local("", here_, diag));
  EXPECT_NE(err.text().find(path("local.pub") + " is not the public half of private/local.key"),
            std::string::npos)
      << err.text();
  // A peer's key file that is no key.
  write_file(root_ / "pubkeys/fqdn/gw2.example", "garbage\n", fs::perms(0644));
  EXPECT_FALSE(again.peer("gw2.example", compiler::IdType::Fqdn, here_, diag));
  EXPECT_NE(err.text().find(path("pubkeys/fqdn/gw2.example") + " is not a public key in PEM form"),
            std::string::npos)
      << err.text();
}

TEST_F(KeysTest, TheCertificateThatNamesTheIdentity) {
  host_key();
  ca();
  host_cert("DNS:gw1.example,IP:192.0.2.1");
  KeyDirectory keys(root_.string(), kNow);
  for (const char* id : {"gw1.example", "192.0.2.1", ""}) {
    auto local = keys.local(id, here_, diag_);
    ASSERT_TRUE(local) << id;
    ASSERT_TRUE(local->certificate) << id;
    EXPECT_EQ(local->certificate->path, path("certs/gw.crt"));
    EXPECT_FALSE(local->public_key);
  }
  CapturedStream err;
  Diagnostics diag(err.get());
  EXPECT_FALSE(keys.local("gw9.example", here_, diag));
  EXPECT_NE(err.text().find(path("certs") + " holds no certificate for local.key that names this "
                            "rule's identity gw9.example: " + path("certs/gw.crt") + " (CN=gw)"),
            std::string::npos)
      << err.text();
  // The peer: no raw key under its identity, so the authorities.
  auto remote = keys.peer("192.0.2.2", compiler::IdType::Ipv4, here_, diag_);
  ASSERT_TRUE(remote);
  EXPECT_FALSE(remote->public_key);
  ASSERT_EQ(remote->authorities.size(), 1u);
  EXPECT_EQ(remote->authorities[0].path, path("ca/ca.crt"));
}

TEST_F(KeysTest, ExpiredNotYetValidAndUnsignedCertificatesAreRefused) {
  host_key();
  ca();
  host_cert("IP:192.0.2.1", kNow - 60 * kDay, 30);
  CapturedStream err;
  Diagnostics diag(err.get());
  EXPECT_FALSE(KeyDirectory(root_.string(), kNow).local("192.0.2.1", here_, diag));
  EXPECT_NE(err.text().find(path("certs/gw.crt") + " expired on "), std::string::npos) << err.text();
  host_cert("IP:192.0.2.1", kNow + 10 * kDay, 30);
  EXPECT_FALSE(KeyDirectory(root_.string(), kNow).local("192.0.2.1", here_, diag));
  EXPECT_NE(err.text().find(path("certs/gw.crt") + " is not valid before "), std::string::npos)
      << err.text();
  // Signed by a CA ca/ does not hold.
  host_cert("IP:192.0.2.1");
  Pkey stranger_key = rsa_key();
  Cert stranger = certificate(stranger_key.get(), "another CA", "", stranger_key.get(), nullptr,
                              kNow - kDay, 365, true);
  write_file(root_ / "ca/ca.crt", cert_pem(stranger.get()), fs::perms(0644));
  EXPECT_FALSE(KeyDirectory(root_.string(), kNow).local("192.0.2.1", here_, diag));
  EXPECT_NE(err.text().find(path("certs/gw.crt") + " is not signed by a CA in " + path("ca") +
                            ": unable to get local issuer certificate"),
            std::string::npos)
      << err.text();
}

TEST_F(KeysTest, APeerWithNeitherRawKeyNorAuthorityIsAnError) {
  host_key();
  CapturedStream err;
  Diagnostics diag(err.get());
  EXPECT_FALSE(KeyDirectory(root_.string(), kNow).peer("192.0.2.2", compiler::IdType::Ipv4,
                                                       here_, diag));
  EXPECT_NE(err.text().find(path("ca") + " holds no CA certificate to check the peer's, and "
                            "there is no " + path("pubkeys/ipv4/192.0.2.2")),
            std::string::npos)
      << err.text();
}

// What charon is given: the key once, the certificate or raw key of this
// host with its identity, the peer's raw key bound to its identity.
TEST_F(KeysTest, TranslateCarriesTheKeysInTheConnection) {
  host_key();
  Pkey peer = rsa_key();
  write_file(root_ / "pubkeys/ipv4/192.0.2.2", public_pem(peer.get()), fs::perms(0644));
  auto c = testing::compile(
      "ike esp from 10.0.1.0/24 to 10.0.2.0/24 peer 192.0.2.2 srcid 192.0.2.1\n"
      "ike esp from 10.0.1.0/24 to 10.0.3.0/24 peer 192.0.2.3 psk \"x\"\n");
  ASSERT_EQ(c.errors, 0) << c.err;
  CapturedStream err;
  Diagnostics diag(err.get());
  diag.intern_file("test.conf");  // the compile's file, as the plan names it
  KeyDirectory keys(root_.string(), kNow);
  auto conns = backends::vici::translate(c.plan, diag, {}, &keys);
  ASSERT_TRUE(conns) << err.text();
  ASSERT_EQ(conns->size(), 2u);
  const auto& raw = conns->at(0);
  ASSERT_TRUE(raw.private_key);
  EXPECT_EQ(raw.private_key->path, path("private/local.key"));
  EXPECT_EQ(raw.private_key->type, "rsa");
  using backends::vici::find;
  const auto& body = raw.load_conn.front().section;
  const auto* local = find(body, "local");
  const auto* remote = find(body, "remote");
  ASSERT_TRUE(local && remote);
  EXPECT_EQ(backends::vici::value_of(local->section, "auth"), "pubkey");
  EXPECT_EQ(backends::vici::value_of(local->section, "id"), "192.0.2.1");
  ASSERT_TRUE(find(local->section, "pubkeys"));
  EXPECT_EQ(raw.key_files.at(find(local->section, "pubkeys")->list.at(0)), path("local.pub"));
  EXPECT_EQ(backends::vici::value_of(remote->section, "id"), "192.0.2.2");
  ASSERT_TRUE(find(remote->section, "pubkeys"));
  EXPECT_EQ(raw.key_files.at(find(remote->section, "pubkeys")->list.at(0)),
            path("pubkeys/ipv4/192.0.2.2"));
  EXPECT_FALSE(conns->at(1).private_key);  // the psk rule signs with nothing
  // Without keys for the peer: refused at the rule, naming the file.
  auto missing = testing::compile("ike esp from 10.0.1.0/24 to 10.0.4.0/24 peer 192.0.2.4\n");
  KeyDirectory again(root_.string(), kNow);
  EXPECT_FALSE(backends::vici::translate(missing.plan, diag, {}, &again));
  EXPECT_NE(err.text().find("test.conf: 1: " + path("ca") + " holds no CA certificate"),
            std::string::npos)
      << err.text();
}

}  // namespace
}  // namespace ipsecctl::testing
