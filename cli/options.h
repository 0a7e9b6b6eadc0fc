// Command line of ipsecctl(8):
//   ipsecctl [-cdFkmnv] [-D macro=value] [-f file] [-i fifo] [-s modifier]
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ipsecctl::cli {

enum class ShowWhat { Flows, Sas, All };

struct Options {
  bool collapse = false;      // -c
  bool deleting = false;      // -d
  bool flush = false;         // -F
  bool show_keys = false;     // -k
  bool monitor = false;       // -m
  bool no_action = false;     // -n
  int verbose = 0;            // -v, -vv
  std::vector<std::string> defines;  // -D (only the well-formed ones)
  std::optional<std::string> file;   // -f
  std::string fifo = "/var/run/isakmpd.fifo";  // -i
  std::optional<ShowWhat> show;      // -s
  // Long options (extensions; OpenBSD has none):
  std::string kernel = "xfrm";       // --kernel xfrm
  bool allow_static_aead = false;    // --allow-static-aead
  std::string ike = "auto";          // --ike auto|isakmpd|vici
  std::string vici = "/var/run/charon.vici";  // --vici PATH
};

// Parses argv as OpenBSD does. On a usage error prints the messages and
// the usage line to stderr and returns nullopt (exit status 1).
std::optional<Options> parse_options(int argc, char** argv);
void print_usage();

}  // namespace ipsecctl::cli
