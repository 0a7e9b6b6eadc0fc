// Keys and certificates as files: read, parsed and checked with OpenSSL,
// so that a key that cannot work is refused before any negotiation, with
// its path. What is kept is the PEM text itself (charon parses it again
// when it is loaded) and what the checks need.
#pragma once

#include <openssl/types.h>

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ipsecctl::backends::keys {

// One file's PEM text, or why it could not be read.
struct PemFile {
  std::string path;
  std::string pem;
};

// What went wrong with a file, in words for the user ("cannot be read: ...").
struct KeyProblem {
  std::string path;
  std::string what;
};

// A parsed key or certificate, owned (OpenSSL's objects, freed with it).
struct OpensslFree {
  void operator()(EVP_PKEY* key) const;
  void operator()(X509* cert) const;
};
// An EVP key, owned; the two kinds are kept apart by type.
class EvpKey {
 public:
  explicit EvpKey(EVP_PKEY* key) : key_(key) {}
  EVP_PKEY* get() const { return key_.get(); }

 private:
  std::unique_ptr<EVP_PKEY, OpensslFree> key_;
};
class PublicKey : public EvpKey {
  using EvpKey::EvpKey;
};
class PrivateKey : public EvpKey {
  using EvpKey::EvpKey;
};
class Certificate {
 public:
  explicit Certificate(X509* cert) : cert_(cert) {}
  X509* get() const { return cert_.get(); }

 private:
  std::unique_ptr<X509, OpensslFree> cert_;
};

// Reads a file that holds key material (at most 64 KiB).
std::optional<PemFile> read_key_file(const std::string& path, KeyProblem& problem);

// A private key must be readable by its owner alone (root or the caller),
// as isakmpd and iked require: nullopt when it is, else why not.
std::optional<std::string> private_key_exposed(const std::string& path);

std::optional<PrivateKey> parse_private_key(const PemFile& file, KeyProblem& problem);
std::optional<PublicKey> parse_public_key(const PemFile& file, KeyProblem& problem);
std::optional<Certificate> parse_certificate(const PemFile& file, KeyProblem& problem);

// "rsa" or "ecdsa" (what charon's load-key calls them); "" for others.
std::string key_type(const PrivateKey& key);
std::string key_type(const PublicKey& key);
// The public half of a private key, as PEM (SubjectPublicKeyInfo).
std::string public_pem(const PrivateKey& key);
bool same_key(const PrivateKey& key, const PublicKey& pub);
bool same_key(const PrivateKey& key, const Certificate& cert);

// Whether the certificate names `id` (its subjectAltName: an address, a
// DNS name or an e-mail address; a distinguished name: its subject).
bool certificate_names(const Certificate& cert, const std::string& id);
std::string certificate_subject(const Certificate& cert);
// nullopt while valid at `now`, else "expired on ..." or "not valid before ...".
std::optional<std::string> certificate_expired(const Certificate& cert, std::time_t now);
// nullopt when one of `authorities` signed it (a chain through them), else
// OpenSSL's reason.
std::optional<std::string> certificate_unverified(const Certificate& cert,
                                                  const std::vector<const Certificate*>& authorities,
                                                  std::time_t now);

}  // namespace ipsecctl::backends::keys
