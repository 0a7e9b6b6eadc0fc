// Command line of ipsecctl(8): OpenBSD's options, parsed as its getopt
// does, plus long options of our own (OpenBSD has none).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/ipsec_types.h"

namespace ipsecctl::cli {

enum class ShowWhat { Flows, Sas, All };
enum class When { Auto, Always, Never };
// What stdout gets: OpenBSD's text, JSON (-j), Prometheus' text format
// (with -s), or swanctl.conf(5) (with -n -f: what a load gives charon).
enum class Format { Text, Json, Prometheus, Swanctl };

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
  // Long options:
  Format format = Format::Text;      // -j, --json, --format
  bool diff = false;                 // --diff (with -f)
  std::string record_as;             // --as FILE (with -f)
  std::string kernel = "xfrm";       // --kernel NAME
  std::string ike = "auto";          // --ike auto|NAME
  std::string vici = "/var/run/charon.vici";  // --vici PATH
  std::string keys = "/etc/isakmpd";          // --keys DIR (--iked: /etc/iked)
  bool keys_given = false;
  IkeVersion ike_version = IkeVersion::V1;     // --ike-version 1|2|any
  std::optional<unsigned> wait;      // --wait[=SECONDS]
  unsigned wait_daemon = 0;          // --wait-daemon[=SECONDS]
  bool allow_static_aead = false;    // --allow-static-aead
  bool iked = false;                 // --iked: the file is iked.conf(5)
  When carets = When::Auto;          // --diagnostics=auto|caret|plain
  When color = When::Auto;           // --color=auto|always|never
  bool help = false;                 // --help
  bool version = false;              // --version
};

// Parses argv as OpenBSD does. On a usage error prints the messages and
// the usage line to stderr and returns nullopt (exit status 1).
std::optional<Options> parse_options(int argc, char** argv);
void print_usage();
void print_help();

}  // namespace ipsecctl::cli
