#include "backends/keys/key_directory.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>

namespace ipsecctl::backends::keys {

namespace {

struct DirClose {
  void operator()(DIR* d) const { ::closedir(d); }
};

// The regular files of a folder, sorted; none when it does not exist.
std::vector<std::string> files_in(const std::string& folder) {
  std::vector<std::string> out;
  std::unique_ptr<DIR, DirClose> dir(::opendir(folder.c_str()));
  if (!dir) return out;
  while (const dirent* e = ::readdir(dir.get())) {
    if (e->d_name[0] == '.') continue;
    const std::string path = folder + "/" + e->d_name;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) out.push_back(path);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// isakmpd's folder for an identity of this type.
const char* pubkey_folder(compiler::IdType type, const std::string& identity) {
  switch (type) {
    case compiler::IdType::Ipv4: return "ipv4";
    case compiler::IdType::Ipv6: return "ipv6";
    case compiler::IdType::UserFqdn: return "ufqdn";
    case compiler::IdType::Fqdn: return "fqdn";
    case compiler::IdType::Unknown: break;
  }
  if (identity.find('@') != std::string::npos) return "ufqdn";
  if (identity.find(':') != std::string::npos) return "ipv6";
  if (!identity.empty() && identity.find_first_not_of("0123456789.") == std::string::npos)
    return "ipv4";
  return "fqdn";
}

}  // namespace

KeyDirectory::KeyDirectory(std::string root, std::time_t now) : root_(std::move(root)), now_(now) {}

void KeyDirectory::problem(SourceLocation origin, Diagnostics& diag, const KeyProblem& p,
                           const std::string& hint) {
  // Every rule that needs a broken file would say so: once is enough.
  if (reported_[p.path + "\n" + p.what]) return;
  reported_[p.path + "\n" + p.what] = true;
  diag.error_at(origin, p.path + " " + p.what, hint);
}

bool KeyDirectory::load_private_key(SourceLocation origin, Diagnostics& diag) {
  const std::string path = root_ + "/private/local.key";
  if (!private_tried_) {
    private_tried_ = true;
    KeyProblem p;
    private_file_ = read_key_file(path, p);
    if (private_file_) {
      if (auto exposed = private_key_exposed(path)) {
        p.what = *exposed;
        private_file_.reset();
      } else {
        private_key_ = parse_private_key(*private_file_, p);
      }
    }
    if (!private_key_) {
      p.what = "(this host's private key: a rule without psk signs with it) " + p.what;
      problem(origin, diag, p,
              "make one: openssl genrsa -out " + path + " 3072 && chmod 600 " + path +
                  " && openssl rsa -in " + path + " -pubout -out " + root_ + "/local.pub");
      return false;
    }
  }
  if (!private_key_) {
    // Said at the first rule; every later one fails the same way.
    KeyProblem again{path, "(this host's private key) is missing or unusable"};
    problem(origin, diag, again);
  }
  return private_key_.has_value();
}

const std::vector<KeyDirectory::Loaded>& KeyDirectory::certificates(const std::string& folder,
                                                                    Diagnostics& diag,
                                                                    SourceLocation origin) {
  auto found = folders_.find(folder);
  if (found != folders_.end()) return found->second;
  std::vector<Loaded>& loaded = folders_[folder];
  for (const std::string& path : files_in(root_ + "/" + folder)) {
    KeyProblem p;
    auto file = read_key_file(path, p);
    std::optional<Certificate> cert;
    if (file) cert = parse_certificate(*file, p);
    if (!cert) {
      problem(origin, diag, p, "every file in " + root_ + "/" + folder + " must be a certificate");
      continue;
    }
    loaded.push_back(Loaded{std::move(*file), std::move(*cert)});
  }
  return loaded;
}

std::optional<LocalCredentials> KeyDirectory::local(const std::string& identity,
                                                    SourceLocation origin, Diagnostics& diag) {
  if (!load_private_key(origin, diag)) return std::nullopt;
  LocalCredentials out;
  out.private_key = *private_file_;
  out.key_type = key_type(*private_key_);
  const std::vector<Loaded>& certs = certificates("certs", diag, origin);
  std::vector<const Loaded*> ours;
  for (const Loaded& c : certs)
    if (same_key(*private_key_, c.cert)) ours.push_back(&c);
  if (!ours.empty()) {
    const Loaded* chosen = nullptr;
    for (const Loaded* c : ours)
      if (identity.empty() || certificate_names(c->cert, identity)) {
        chosen = c;
        break;
      }
    if (chosen == nullptr) {
      std::string names;
      for (const Loaded* c : ours) names += " " + c->file.path + " (" + certificate_subject(c->cert) + ")";
      problem(origin, diag,
              KeyProblem{root_ + "/certs", "holds no certificate for local.key that names this "
                                           "rule's identity " + identity + ":" + names},
              "give the certificate a subjectAltName " + identity +
                  " (isakmpd(8), X.509 AUTHENTICATION), or name its identity in srcid");
      return std::nullopt;
    }
    if (auto expired = certificate_expired(chosen->cert, now_)) {
      problem(origin, diag, KeyProblem{chosen->file.path, *expired});
      return std::nullopt;
    }
    std::vector<const Certificate*> authorities;
    for (const Loaded& ca : certificates("ca", diag, origin)) authorities.push_back(&ca.cert);
    if (auto unverified = certificate_unverified(chosen->cert, authorities, now_)) {
      problem(origin, diag,
              KeyProblem{chosen->file.path,
                         "is not signed by a CA in " + root_ + "/ca: " + *unverified},
              "put the certificate of the CA that signed it in " + root_ + "/ca");
      return std::nullopt;
    }
    out.certificate = chosen->file;
    return out;
  }
  // No certificate for local.key: a raw key, as local.pub hands it out.
  const std::string pub_path = root_ + "/local.pub";
  KeyProblem p;
  auto pub_file = read_key_file(pub_path, p);
  std::optional<PublicKey> pub;
  if (pub_file) pub = parse_public_key(*pub_file, p);
  if (pub && !same_key(*private_key_, *pub)) {
    p.what = "is not the public half of private/local.key";
    pub.reset();
  }
  if (!pub) {
    problem(origin, diag, p,
            "without a certificate for local.key in " + root_ +
                "/certs, peers check this host with local.pub: openssl pkey -in " + root_ +
                "/private/local.key -pubout -out " + pub_path);
    return std::nullopt;
  }
  out.public_key = std::move(*pub_file);
  return out;
}

std::optional<PeerCredentials> KeyDirectory::peer(const std::string& identity,
                                                  compiler::IdType type, SourceLocation origin,
                                                  Diagnostics& diag) {
  PeerCredentials out;
  if (!identity.empty()) {
    const std::string path =
        root_ + "/pubkeys/" + pubkey_folder(type, identity) + "/" + identity;
    if (exists(path)) {
      KeyProblem p;
      auto file = read_key_file(path, p);
      std::optional<PublicKey> key;
      if (file) key = parse_public_key(*file, p);
      if (!key) {
        problem(origin, diag, p);
        return std::nullopt;
      }
      out.public_key = std::move(*file);
      return out;
    }
  }
  for (const Loaded& ca : certificates("ca", diag, origin)) out.authorities.push_back(ca.file);
  if (out.authorities.empty()) {
    const std::string raw = identity.empty()
                                ? std::string("this rule names no peer identity for a raw key")
                                : "there is no " + root_ + "/pubkeys/" +
                                      pubkey_folder(type, identity) + "/" + identity;
    problem(origin, diag,
            KeyProblem{root_ + "/ca", "holds no CA certificate to check the peer's, and " + raw},
            "copy the peer's local.pub to the pubkeys file, or its CA's certificate to " + root_ +
                "/ca");
    return std::nullopt;
  }
  return out;
}

}  // namespace ipsecctl::backends::keys
