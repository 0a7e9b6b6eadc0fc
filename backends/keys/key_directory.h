// The keys isakmpd finds by itself (isakmpd(8), PUBLIC KEY and X.509
// AUTHENTICATION), under one root, /etc/isakmpd by default:
//   private/local.key      this host's private key (RSA or ECDSA), 0600
//   local.pub              its public half, for raw-key peers
//   certs/*.crt            this host's certificate (for local.key, naming
//                          its identity) and any others
//   ca/*.crt               the authorities that sign the peers' certificates
//   pubkeys/ipv4/A.B.C.D, pubkeys/ipv6/ADDR, pubkeys/fqdn/NAME,
//   pubkeys/ufqdn/USER@NAME  a peer's raw public key, named by its identity
// An ike rule without psk signs with local.key: with the certificate that
// names its srcid when there is one, else as a raw key (local.pub). It
// checks its peer with the raw key named by the peer's identity when there
// is one, else with the authorities. Everything is read, parsed and
// checked once per load, before anything is sent: a key that cannot work
// is an error at the rule, naming the file.
#pragma once

#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "backends/keys/key_files.h"
#include "common/diagnostics.h"
#include "compiler/plan.h"

namespace ipsecctl::backends::keys {

inline constexpr const char* kIsakmpdKeyRoot = "/etc/isakmpd";

struct LocalCredentials {
  PemFile private_key;   // private/local.key
  std::string key_type;  // "rsa" or "ecdsa"
  // Exactly one of these: the certificate, or the raw public key.
  std::optional<PemFile> certificate;
  std::optional<PemFile> public_key;  // local.pub
};

struct PeerCredentials {
  std::optional<PemFile> public_key;  // pubkeys/<type>/<identity>
  std::vector<PemFile> authorities;   // ca/*.crt, when there is no raw key
};

class KeyDirectory {
 public:
  explicit KeyDirectory(std::string root = kIsakmpdKeyRoot, std::time_t now = std::time(nullptr));
  const std::string& root() const { return root_; }

  // This host's credentials for a rule whose own identity is `identity`
  // ("" when the rule names none). Problems are errors at `origin`.
  std::optional<LocalCredentials> local(const std::string& identity, SourceLocation origin,
                                        Diagnostics& diag);
  // How to check a peer that shows `identity` (of `type`; "" when the
  // rule names no peer).
  std::optional<PeerCredentials> peer(const std::string& identity, compiler::IdType type,
                                      SourceLocation origin, Diagnostics& diag);

 private:
  struct Loaded {
    PemFile file;
    Certificate cert;
  };
  bool load_private_key(SourceLocation origin, Diagnostics& diag);
  const std::vector<Loaded>& certificates(const std::string& folder, Diagnostics& diag,
                                          SourceLocation origin);
  void problem(SourceLocation origin, Diagnostics& diag, const KeyProblem& p,
               const std::string& hint = {});

  std::string root_;
  std::time_t now_;
  // Read once per load.
  bool private_tried_ = false;
  std::optional<PemFile> private_file_;
  std::optional<PrivateKey> private_key_;
  std::map<std::string, std::vector<Loaded>> folders_;  // certs, ca
  std::map<std::string, bool> reported_;                // a file's problem said once
};

}  // namespace ipsecctl::backends::keys
