// A random ipsec.conf "world" and the edits an administrator makes to it,
// for the reload property (tests/property/reload_property.cc): two groups
// of files, each a top file with macros and two included files, holding
// flows, manual SAs and (for a daemon) ike rules. Every world renders to
// files ipsecctl must accept; edits keep it so (unique selectors, SPIs
// and phase 2 names, one key and one main mode per peer).
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace ipsecctl::property {

struct WorldOptions {
  bool sas = true;   // manual SAs (the kernel must have ESP and AH)
  bool ikes = false; // ike rules (a daemon must take them)
  // The SAs' integrity algorithms (PF_KEY refuses the SHA-2 ones, which
  // Linux's af_key would truncate to 96 bits).
  std::vector<std::string> auths = {"hmac-sha1", "hmac-sha2-256", "hmac-sha2-512"};
};

enum class RuleKind : std::uint8_t { Flow, Sa, Ike };

// One rule, by its parts; rendered by ConfigWorld::render_rule.
struct WorldRule {
  RuleKind kind = RuleKind::Flow;
  int group = 0;         // 0 or 1: which top file loads it
  int file = 0;          // 0: the top file, 1 and 2: its includes
  bool v6 = false;
  int src = 0, dst = 0;  // network numbers in the group's pools
  bool src_host = false; // a /32 (/128) host instead of the network
  int proto = 0;         // 0, 6 or 17
  int sport = 0, dport = 0;
  int peer = 0;          // peer number in the group's pool
  bool peer_by_macro = false;
  std::string satype = "esp";  // esp or ah
  std::string dir;             // "", "in" or "out" (flows)
  std::string type;            // "", "require", "use", "deny", "bypass", "dontacq"
  // Manual SAs.
  std::uint32_t spi_out = 0, spi_in = 0;
  std::string auth = "hmac-sha2-256", enc = "aes-256";
  std::string authkey_out, authkey_in, enckey_out, enckey_in;  // hex without 0x
  bool transport = false;
  // ike rules.
  std::string ike_mode = "active";  // active, passive or dynamic
  std::string quick_enc = "aes-256";
  std::uint32_t quick_lifetime = 1200;
  std::uint64_t id = 0;  // stable through edits, for messages
};

class ConfigWorld {
 public:
  ConfigWorld(std::uint64_t seed, WorldOptions options);

  // A fresh random world of a few rules per group.
  void populate();
  // One random edit (add, remove, change, move, macro, rekey, reorder);
  // returns what it did and the group it touched.
  std::string edit(int& group);

  // Writes the group's files into `dir` (0600, as files with keys must
  // be; includes name their files by absolute path); returns the top
  // file's path.
  std::string write(const std::string& dir, int group);
  // The group's files, for a failure report.
  std::string listing(int group) const;
  std::string top_file_name(int group) const;

 private:
  WorldRule random_rule(int group, RuleKind kind);
  void randomize_flow_part(WorldRule& r);
  void fit_type(WorldRule& r);
  std::string random_auth();
  void rekey(WorldRule& r);
  bool selector_taken(const WorldRule& r, const WorldRule* except) const;
  bool spi_taken(std::uint32_t spi) const;
  std::uint32_t fresh_spi();
  std::string random_hex(std::size_t bytes);
  std::string render_rule(const WorldRule& r) const;
  std::string render_file(int group, int file) const;  // into dir_
  std::string network(const WorldRule& r, bool source) const;
  std::string peer_address(int group, int peer, bool v6) const;
  std::string local_address(int group, bool v6) const;
  int pick(int below) { return std::uniform_int_distribution<int>(0, below - 1)(rng_); }
  bool chance(int percent) { return pick(100) < percent; }

  std::mt19937_64 rng_;
  WorldOptions options_;
  std::vector<WorldRule> rules_;
  // Per group: the value of macro peerN (an index into the peer pool),
  // each peer's key and main mode (the rules of one peer share them).
  std::map<std::pair<int, int>, int> macro_peer_;
  std::map<std::pair<int, int>, std::string> peer_psk_;
  std::map<std::pair<int, int>, std::string> peer_main_enc_;
  std::uint64_t next_id_ = 1;
  std::string dir_;  // where write() puts the files
};

}  // namespace ipsecctl::property
