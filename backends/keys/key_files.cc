#include "backends/keys/key_files.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "common/unique_fd.h"

namespace ipsecctl::backends::keys {

void OpensslFree::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
void OpensslFree::operator()(X509* cert) const { X509_free(cert); }

namespace {

constexpr off_t kKeyFileLimit = 64 * 1024;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

BioPtr memory_of(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string text_of(BIO* b) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

// OpenSSL's last reason, and its error queue emptied.
std::string openssl_reason() {
  const unsigned long e = ERR_peek_last_error();
  char buf[256] = "not in PEM form";
  if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A distinguished name with its separators' blanks gone and in lower
// case, so that "C=DE, O=x" and "C=DE,O=x" compare equal.
std::string normalized_dn(const std::string& dn) {
  std::string out;
  for (std::size_t i = 0; i < dn.size(); ++i) {
    const char c = dn[i];
    if (c == ' ' && (i + 1 == dn.size() || dn[i + 1] == ',' || dn[i + 1] == '=' ||
                     (!out.empty() && (out.back() == ',' || out.back() == '='))))
      continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string time_text(const ASN1_TIME* t) {
  BioPtr b(BIO_new(BIO_s_mem()));
  ASN1_TIME_print(b.get(), t);
  return text_of(b.get());
}

}  // namespace

std::optional<PemFile> read_key_file(const std::string& path, KeyProblem& problem) {
  problem.path = path;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    problem.what = std::string("cannot be read: ") + std::strerror(errno);
    return std::nullopt;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    problem.what = "is not a regular file";
    return std::nullopt;
  }
  if (st.st_size > kKeyFileLimit) {
    problem.what = "is larger than a key or certificate can be (64 KiB)";
    return std::nullopt;
  }
  PemFile file{path, std::string(static_cast<std::size_t>(st.st_size), '\0')};
  std::size_t got = 0;
  while (got < file.pem.size()) {
    const ssize_t n = ::read(fd.get(), file.pem.data() + got, file.pem.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      problem.what = std::string("cannot be read: ") + std::strerror(n < 0 ? errno : EIO);
      return std::nullopt;
    }
    got += static_cast<std::size_t>(n);
  }
  return file;
}

std::optional<std::string> private_key_exposed(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;  // reading it says why
  if (st.st_uid != 0 && st.st_uid != ::geteuid())
    return "is owned by uid " + std::to_string(st.st_uid) + ", not by root or the caller";
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return std::string("can be read or written by others (mode ") + mode +
           "); a private key must be its owner's alone (chmod 600)";
  }
  return std::nullopt;
}

namespace {

// A key of kind K read by `read` from the file's PEM; `what` names the
// form when it is not one.
template <typename K, typename Reader>
std::optional<K> parse_key(const PemFile& file, KeyProblem& problem, Reader read,
                           const std::string& what) {
  problem.path = file.path;
  BioPtr b = memory_of(file.pem);
  EVP_PKEY* k = read(b.get());
  if (k == nullptr) {
    problem.what = "is not " + what + ": " + openssl_reason();
    return std::nullopt;
  }
  K key(k);
  if (key_type(key).empty()) {
    problem.what = "holds neither an RSA nor an ECDSA key";
    return std::nullopt;
  }
  return key;
}

}  // namespace

std::optional<PrivateKey> parse_private_key(const PemFile& file, KeyProblem& problem) {
  return parse_key<PrivateKey>(
      file, problem,
      [](BIO* b) { return PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr); },
      "a private key in PEM form");
}

std::optional<PublicKey> parse_public_key(const PemFile& file, KeyProblem& problem) {
  return parse_key<PublicKey>(
      file, problem, [](BIO* b) { return PEM_read_bio_PUBKEY(b, nullptr, nullptr, nullptr); },
      "a public key in PEM form (-----BEGIN PUBLIC KEY-----)");
}

std::optional<Certificate> parse_certificate(const PemFile& file, KeyProblem& problem) {
  problem.path = file.path;
  BioPtr b = memory_of(file.pem);
  X509* c = PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr);
  if (c == nullptr) {
    problem.what = "is not an X.509 certificate in PEM form: " + openssl_reason();
    return std::nullopt;
  }
  return Certificate(c);
}

namespace {
std::string type_of(const EVP_PKEY* k) {
  if (EVP_PKEY_is_a(k, "RSA")) return "rsa";
  if (EVP_PKEY_is_a(k, "EC")) return "ecdsa";
  return "";
}
}  // namespace

std::string key_type(const PrivateKey& key) { return type_of(key.get()); }
std::string key_type(const PublicKey& key) { return type_of(key.get()); }

std::string public_pem(const PrivateKey& key) {
  BioPtr b(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(b.get(), key.get());
  return text_of(b.get());
}

bool same_key(const PrivateKey& key, const PublicKey& pub) {
  return EVP_PKEY_eq(key.get(), pub.get()) == 1;
}

bool same_key(const PrivateKey& key, const Certificate& cert) {
  const EVP_PKEY* pub = X509_get0_pubkey(cert.get());
  return pub != nullptr && EVP_PKEY_eq(key.get(), pub) == 1;
}

std::string certificate_subject(const Certificate& cert) {
  BioPtr b(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(b.get(), X509_get_subject_name(cert.get()), 0,
                     XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  return text_of(b.get());
}

bool certificate_names(const Certificate& cert, const std::string& id) {
  unsigned char address[16];
  int address_size = 0;
  if (::inet_pton(AF_INET, id.c_str(), address) == 1) address_size = 4;
  else if (::inet_pton(AF_INET6, id.c_str(), address) == 1) address_size = 16;
  const bool email = id.find('@') != std::string::npos;
  if (address_size == 0 && !email && id.find('=') != std::string::npos) {
    // A distinguished name: the subject, in either order of its parts.
    BioPtr b(BIO_new(BIO_s_mem()));
    X509_NAME_print_ex(b.get(), X509_get_subject_name(cert.get()), 0, XN_FLAG_ONELINE);
    const std::string oneline = normalized_dn(text_of(b.get()));
    const std::string rfc = normalized_dn(certificate_subject(cert));
    const std::string want = normalized_dn(id);
    return want == oneline || want == rfc;
  }
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return false;
  bool found = false;
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && !found; ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (address_size != 0) {
      if (n->type == GEN_IPADD && ASN1_STRING_length(n->d.iPAddress) == address_size)
        found = std::memcmp(ASN1_STRING_get0_data(n->d.iPAddress), address,
                            static_cast<std::size_t>(address_size)) == 0;
    } else if (n->type == (email ? GEN_EMAIL : GEN_DNS)) {
      const ASN1_IA5STRING* s = email ? n->d.rfc822Name : n->d.dNSName;
      const std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                              static_cast<std::size_t>(ASN1_STRING_length(s)));
      found = lower(value) == lower(id);
    }
  }
  GENERAL_NAMES_free(names);
  return found;
}

std::optional<std::string> certificate_expired(const Certificate& cert, std::time_t now) {
  std::time_t at = now;
  if (X509_cmp_time(X509_get0_notAfter(cert.get()), &at) < 0)
    return "expired on " + time_text(X509_get0_notAfter(cert.get()));
  if (X509_cmp_time(X509_get0_notBefore(cert.get()), &at) > 0)
    return "is not valid before " + time_text(X509_get0_notBefore(cert.get()));
  return std::nullopt;
}

std::optional<std::string> certificate_unverified(const Certificate& cert,
                                                  const std::vector<const Certificate*>& authorities,
                                                  std::time_t now) {
  struct StoreFree {
    void operator()(X509_STORE* s) const { X509_STORE_free(s); }
  };
  struct ContextFree {
    void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
  };
  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  for (const Certificate* ca : authorities) X509_STORE_add_cert(store.get(), ca->get());
  std::unique_ptr<X509_STORE_CTX, ContextFree> context(X509_STORE_CTX_new());
  if (!store || !context || X509_STORE_CTX_init(context.get(), store.get(), cert.get(), nullptr) != 1)
    return "cannot be checked: " + openssl_reason();
  X509_STORE_CTX_set_time(context.get(), 0, now);
  if (X509_verify_cert(context.get()) == 1) return std::nullopt;
  const int error = X509_STORE_CTX_get_error(context.get());
  ERR_clear_error();
  return X509_verify_cert_error_string(error);
}

}  // namespace ipsecctl::backends::keys
