#include "tests/property/config_world.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace ipsecctl::property {

namespace {

constexpr int kGroups = 2;
constexpr int kFilesPerGroup = 3;
constexpr int kNetworks = 12;  // per pool
constexpr int kPeers = 6;
constexpr int kMacros = 3;

const char* const kFlowTypes[] = {"", "require", "use", "deny", "bypass"};  // no dontacq on Linux
// Static keys: OpenBSD refuses counter-mode ciphers (and AEAD) there.
const char* const kEncs[] = {"aes-128", "aes-256", "aes-192"};
const char* const kIkeModes[] = {"active", "passive", "dynamic"};

// Key bytes each algorithm takes.
std::size_t key_bytes(const std::string& algorithm) {
  if (algorithm == "aes-128" || algorithm == "hmac-md5") return 16;
  if (algorithm == "aes-192") return 24;
  if (algorithm == "hmac-sha1" || algorithm == "hmac-ripemd160") return 20;
  if (algorithm == "hmac-sha2-512") return 64;
  return 32;
}

void write_private(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + path);
  ::fchmod(fd, 0600);
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write " + path);
}

}  // namespace

ConfigWorld::ConfigWorld(std::uint64_t seed, WorldOptions options)
    : rng_(seed), options_(options) {
  for (int g = 0; g < kGroups; ++g) {
    for (int m = 1; m <= kMacros; ++m) macro_peer_[{g, m}] = pick(kPeers);
    for (int p = 0; p < kPeers; ++p) {
      peer_psk_[{g, p}] = "key-" + random_hex(6);
      peer_main_enc_[{g, p}] = kEncs[pick(2)];
    }
  }
}

void ConfigWorld::populate() {
  for (int g = 0; g < kGroups; ++g) {
    const int count = 2 + pick(5);
    for (int i = 0; i < count; ++i) {
      RuleKind kind = RuleKind::Flow;
      const int roll = pick(10);
      if (options_.sas && roll >= 6) kind = RuleKind::Sa;
      if (options_.ikes && roll >= 8) kind = RuleKind::Ike;
      rules_.push_back(random_rule(g, kind));
    }
  }
}

WorldRule ConfigWorld::random_rule(int group, RuleKind kind) {
  WorldRule r;
  r.kind = kind;
  r.group = group;
  r.file = pick(kFilesPerGroup);
  r.id = next_id_++;
  r.peer = pick(kPeers);
  r.peer_by_macro = chance(30);
  if (r.peer_by_macro) r.peer = 1 + pick(kMacros);  // the macro's number
  switch (kind) {
    case RuleKind::Flow:
      randomize_flow_part(r);
      r.satype = chance(80) ? "esp" : "ah";
      r.dir = chance(70) ? "" : (chance(50) ? "in" : "out");
      r.type = kFlowTypes[pick(5)];
      fit_type(r);
      break;
    case RuleKind::Sa:
      r.v6 = chance(20);
      if (r.v6) r.peer_by_macro = false, r.peer = pick(kPeers);
      r.satype = chance(75) ? "esp" : "ah";
      r.transport = chance(20);
      r.enc = kEncs[pick(3)];
      r.auth = random_auth();
      r.spi_out = fresh_spi();
      r.spi_in = fresh_spi();
      rekey(r);
      break;
    case RuleKind::Ike:
      r.peer_by_macro = false;
      r.peer = pick(kPeers);
      do {
        randomize_flow_part(r);
        r.v6 = false;
        r.proto = 0, r.sport = 0, r.dport = 0;
      } while (selector_taken(r, &r));
      r.ike_mode = kIkeModes[pick(3)];
      r.quick_enc = kEncs[pick(2)];
      r.quick_lifetime = 600 + 60 * static_cast<std::uint32_t>(pick(20));
      break;
  }
  return r;
}

void ConfigWorld::randomize_flow_part(WorldRule& r) {
  const WorldRule* self = &r;
  for (int attempt = 0; attempt < 100; ++attempt) {
    r.v6 = chance(20);
    r.src = pick(kNetworks);
    r.dst = pick(kNetworks);
    r.src_host = chance(20);
    r.proto = chance(60) ? 0 : (chance(50) ? 6 : 17);
    r.sport = r.proto != 0 && chance(30) ? 1000 + pick(50) : 0;
    r.dport = r.proto != 0 && chance(60) ? 20 + pick(500) : 0;
    if (r.v6 && r.peer_by_macro) r.peer_by_macro = false, r.peer = pick(kPeers);
    if (!selector_taken(r, self)) return;
  }
  throw std::runtime_error("the world has no free selector left");
}

// Linux has no optional template for outbound tunnel traffic: `type use`
// is for inbound flows only (ipsecctl refuses it otherwise).
void ConfigWorld::fit_type(WorldRule& r) {
  if (r.type == "use") r.dir = "in";
}

std::string ConfigWorld::random_auth() {
  return options_.auths.at(static_cast<std::size_t>(pick(static_cast<int>(options_.auths.size()))));
}

void ConfigWorld::rekey(WorldRule& r) {
  r.authkey_out = random_hex(key_bytes(r.auth));
  r.authkey_in = random_hex(key_bytes(r.auth));
  r.enckey_out = random_hex(key_bytes(r.enc));
  r.enckey_in = random_hex(key_bytes(r.enc));
}

// Flows and ike rules: one per selector (src, dst, proto, ports) in the
// whole world; the two groups' pools never meet.
bool ConfigWorld::selector_taken(const WorldRule& r, const WorldRule* except) const {
  if (r.kind == RuleKind::Sa) return false;
  for (const WorldRule& o : rules_) {
    if (&o == except || o.id == r.id || o.kind == RuleKind::Sa || o.group != r.group) continue;
    if (o.v6 == r.v6 && o.src == r.src && o.dst == r.dst && o.src_host == r.src_host &&
        o.proto == r.proto && o.sport == r.sport && o.dport == r.dport)
      return true;
    // ike rules are named by their networks alone (phase 2 names).
    if ((o.kind == RuleKind::Ike || r.kind == RuleKind::Ike) && o.v6 == r.v6 &&
        o.src == r.src && o.dst == r.dst && o.src_host == r.src_host)
      return true;
  }
  return false;
}

bool ConfigWorld::spi_taken(std::uint32_t spi) const {
  return std::any_of(rules_.begin(), rules_.end(), [spi](const WorldRule& o) {
    return o.kind == RuleKind::Sa && (o.spi_out == spi || o.spi_in == spi);
  });
}

std::uint32_t ConfigWorld::fresh_spi() {
  for (;;) {
    const auto spi = static_cast<std::uint32_t>(0x1000 + pick(0xe000));
    if (!spi_taken(spi)) return spi;
  }
}

std::string ConfigWorld::random_hex(std::size_t bytes) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < bytes * 2; ++i) s += digits[pick(16)];
  return s;
}

std::string ConfigWorld::edit(int& group) {
  std::vector<std::size_t> all(rules_.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  const int what = rules_.empty() ? 0 : pick(8);
  if (what == 0 || rules_.size() < 2) {  // add
    group = pick(kGroups);
    RuleKind kind = RuleKind::Flow;
    const int roll = pick(10);
    if (options_.sas && roll >= 6) kind = RuleKind::Sa;
    if (options_.ikes && roll >= 8) kind = RuleKind::Ike;
    rules_.push_back(random_rule(group, kind));
    return "add rule " + std::to_string(rules_.back().id);
  }
  WorldRule& r = rules_[static_cast<std::size_t>(pick(static_cast<int>(rules_.size())))];
  group = r.group;
  const std::string which = "rule " + std::to_string(r.id);
  switch (what) {
    case 1: {  // remove
      const std::uint64_t id = r.id;
      rules_.erase(std::find_if(rules_.begin(), rules_.end(),
                                [id](const WorldRule& o) { return o.id == id; }));
      return "remove " + which;
    }
    case 2:  // move to another file of its group
      r.file = (r.file + 1 + pick(kFilesPerGroup - 1)) % kFilesPerGroup;
      return "move " + which + " to file " + std::to_string(r.file);
    case 3: {  // a macro's value
      const int m = 1 + pick(kMacros);
      macro_peer_[{group, m}] = pick(kPeers);
      return "macro peer" + std::to_string(m) + " changes";
    }
    case 4: {  // reorder: this rule goes last in its file
      WorldRule moved = r;
      const std::uint64_t id = r.id;
      rules_.erase(std::find_if(rules_.begin(), rules_.end(),
                                [id](const WorldRule& o) { return o.id == id; }));
      rules_.push_back(moved);
      return "reorder " + which;
    }
    default:  // change one of its parts
      switch (r.kind) {
        case RuleKind::Flow:
          switch (pick(4)) {
            case 0: randomize_flow_part(r); return "change selector of " + which;
            case 1:
              r.type = kFlowTypes[pick(5)];
              fit_type(r);
              return "change type of " + which;
            case 2:
              r.peer_by_macro = !r.v6 && chance(30);
              r.peer = r.peer_by_macro ? 1 + pick(kMacros) : pick(kPeers);
              return "change peer of " + which;
            default: r.satype = r.satype == "esp" ? "ah" : "esp"; return "change satype of " + which;
          }
        case RuleKind::Sa:
          switch (pick(3)) {
            case 0: rekey(r); return "rekey " + which;
            case 1: r.spi_out = fresh_spi(); return "new spi for " + which;
            default:
              r.enc = kEncs[pick(3)];
              r.auth = random_auth();
              rekey(r);
              return "change algorithms of " + which;
          }
        case RuleKind::Ike:
          switch (pick(4)) {
            case 0: r.quick_enc = kEncs[pick(2)]; return "change quick enc of " + which;
            case 1: r.ike_mode = kIkeModes[pick(3)]; return "change mode of " + which;
            case 2:
              peer_psk_[{group, r.peer}] = "key-" + random_hex(6);
              return "change the key of " + which + "'s peer";
            default:
              r.quick_lifetime = 600 + 60 * static_cast<std::uint32_t>(pick(20));
              return "change quick lifetime of " + which;
          }
      }
  }
  return "nothing";
}

std::string ConfigWorld::network(const WorldRule& r, bool source) const {
  const int n = source ? r.src : r.dst;
  const int pool = 2 * r.group + (source ? 1 : 2);
  char buf[64];
  if (r.v6) {
    if (source && r.src_host) std::snprintf(buf, sizeof buf, "2001:db8:%d:%d::7", pool, n);
    else std::snprintf(buf, sizeof buf, "2001:db8:%d:%d::/64", pool, n);
  } else if (source && r.src_host) {
    std::snprintf(buf, sizeof buf, "10.%d.%d.7", pool, n);
  } else {
    std::snprintf(buf, sizeof buf, "10.%d.%d.0/24", pool, n);
  }
  return buf;
}

std::string ConfigWorld::peer_address(int group, int peer, bool v6) const {
  char buf[64];
  if (v6) std::snprintf(buf, sizeof buf, "2001:db8:f0:%d::%d", group, 10 + peer);
  else std::snprintf(buf, sizeof buf, group == 0 ? "192.0.2.%d" : "198.51.100.%d", 10 + peer);
  return buf;
}

std::string ConfigWorld::local_address(int group, bool v6) const {
  if (v6) return "2001:db8:f0:" + std::to_string(group) + "::1";
  return group == 0 ? "192.0.2.1" : "198.51.100.1";
}

std::string ConfigWorld::render_rule(const WorldRule& r) const {
  const int effective_peer =
      r.peer_by_macro ? macro_peer_.at({r.group, r.peer}) : r.peer;
  const std::string peer = r.peer_by_macro ? "$peer" + std::to_string(r.peer)
                                           : peer_address(r.group, r.peer, r.v6);
  std::string s;
  auto ports = [&](int port) { return port != 0 ? " port " + std::to_string(port) : ""; };
  switch (r.kind) {
    case RuleKind::Flow: {
      s = "flow " + r.satype;
      if (!r.dir.empty()) s += " " + r.dir;
      if (r.proto != 0) s += r.proto == 6 ? " proto tcp" : " proto udp";
      s += " from " + network(r, true) + ports(r.sport) + " to " + network(r, false) +
           ports(r.dport);
      if (r.type != "deny" && r.type != "bypass") s += " peer " + peer;
      if (!r.type.empty()) s += " type " + r.type;
      break;
    }
    case RuleKind::Sa: {
      s = r.satype + (r.transport ? " transport" : " tunnel") + " from " +
          local_address(r.group, r.v6) + " to " + peer;
      char spi[32];
      std::snprintf(spi, sizeof spi, " spi 0x%x:0x%x", r.spi_out, r.spi_in);
      s += spi;
      s += " auth " + r.auth;
      if (r.satype == "esp") s += " enc " + r.enc;
      s += " authkey 0x" + r.authkey_out + ":0x" + r.authkey_in;
      if (r.satype == "esp") s += " enckey 0x" + r.enckey_out + ":0x" + r.enckey_in;
      break;
    }
    case RuleKind::Ike:
      s = "ike " + r.ike_mode + " esp from " + network(r, true) + " to " + network(r, false) +
          " peer " + peer + " main auth hmac-sha2-256 enc " +
          peer_main_enc_.at({r.group, effective_peer}) +
          " group modp2048 quick auth hmac-sha2-256 enc " + r.quick_enc +
          " group modp2048 lifetime " + std::to_string(r.quick_lifetime);
      // The second group speaks IKEv2: its keys go by identity.
      if (r.group == 1) s += " dstid " + peer_address(r.group, effective_peer, false);
      s += " psk \"" + peer_psk_.at({r.group, effective_peer}) + "\"";
      break;
  }
  return s + "  # rule " + std::to_string(r.id) + "\n";
}

std::string ConfigWorld::top_file_name(int group) const {
  return "group" + std::to_string(group) + ".conf";
}

std::string ConfigWorld::render_file(int group, int file) const {
  std::string s;
  if (file == 0) {
    if (group == 1 && options_.ikes) s += "ipsecctl_ike_version = \"2\"\n";
    for (int m = 1; m <= kMacros; ++m)
      s += "peer" + std::to_string(m) + " = \"" +
           peer_address(group, macro_peer_.at({group, m}), false) + "\"\n";
    for (int f = 1; f < kFilesPerGroup; ++f)
      s += "include \"" + dir_ + "/" + top_file_name(group) + "." + std::to_string(f) + "\"\n";
  }
  for (const WorldRule& r : rules_)
    if (r.group == group && r.file == file) s += render_rule(r);
  return s;
}

std::string ConfigWorld::write(const std::string& dir, int group) {
  dir_ = dir;
  for (int f = 0; f < kFilesPerGroup; ++f) {
    std::string name = dir + "/" + top_file_name(group);
    if (f != 0) name += "." + std::to_string(f);
    write_private(name, render_file(group, f));
  }
  return dir + "/" + top_file_name(group);
}

std::string ConfigWorld::listing(int group) const {
  std::string s;
  for (int f = 0; f < kFilesPerGroup; ++f) {
    s += "--- " + top_file_name(group) + (f != 0 ? "." + std::to_string(f) : "") + "\n";
    s += render_file(group, f);
  }
  return s;
}

}  // namespace ipsecctl::property
