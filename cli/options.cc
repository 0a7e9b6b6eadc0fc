#include "cli/options.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "backends/registry.h"

namespace ipsecctl::cli {

void print_usage() {
  // The backends' names come from the registry, as --help's lines do.
  std::string kernels, daemons = "auto";
  for (const auto& k : backends::kernel_interfaces()) kernels += (kernels.empty() ? "" : "|") + k.name;
  for (const auto& d : backends::ike_daemons()) daemons += "|" + d.name;
  std::fprintf(stderr,
               "usage: ipsecctl [-cdFjkmnv] [-D macro=value] [-f file] [-i fifo] [-s modifier]\n"
               "                [--kernel %s] [--ike %s] [--vici path] [--keys dir]\n"
               "                [--diff] [--as file] [--wait[=seconds]] [--allow-static-aead]\n"
               "                [--diagnostics auto|caret|plain] [--color auto|always|never]\n"
               "                [--ike-version 1|2|any] [--format text|json|prometheus|swanctl]\n"
               "                [--iked] [--json] [--help] [--version]\n",
               kernels.c_str(), daemons.c_str());
}

void print_help() {
  std::printf(
      "ipsecctl: load, remove, show and watch IPsec policy written in OpenBSD's\n"
      "ipsec.conf(5) format, through the Linux kernel and an IKE daemon.\n"
      "\n"
      "  -f file      load the file's flows, SAs and ike rules, all or nothing;\n"
      "               -v then lists what changed, -j says it as JSON\n"
      "  --diff       with -f: say what a load would add, change and remove, and\n"
      "               change nothing (exit 0: nothing to do, 2: something)\n"
      "  --as file    with -f: as if the file were read from there: an earlier load\n"
      "               of that file is what a reload compares with (check a staged\n"
      "               copy before it replaces the live one)\n"
      "  -d           with -f: remove what the file would load\n"
      "  -n           with -f: check the file only; nothing is loaded\n"
      "  -v, -vv      print rules (and isakmpd commands) as they are read;\n"
      "               -vv adds rule numbers and reports unused macros\n"
      "  -k           show keys and secrets\n"
      "  -F           flush the kernel's SPD and SAD, and take out of the IKE daemon\n"
      "               the connections ipsecctl loaded into it\n"
      "  -s modifier  show flow, sa or all (flows, SAs, and the IKE daemon's SAs)\n"
      "  -c           with -s: collapse flows that differ only in addresses\n"
      "  -m           print kernel IPsec events until interrupted\n"
      "  -D m=value   define a macro the file cannot override\n"
      "  -i fifo      isakmpd's command fifo (default /var/run/isakmpd.fifo)\n"
      "  -j, --json   JSON output for -s, -m, -n, -f and --diff\n"
      "  --format f   text, json (as -j); for -s, prometheus (node_exporter's\n"
      "               textfile collector); for -n -f, swanctl: the swanctl.conf(5) of\n"
      "               what a load gives strongSwan's charon\n"
      "  --kernel name        the kernel interface:");
  for (const auto& k : backends::kernel_interfaces())
    std::printf("\n                         %s: %s", k.name.c_str(), k.help.c_str());
  std::printf(
      "\n  --ike name           the IKE daemon for ike rules: auto (the first that answers)");
  for (const auto& d : backends::ike_daemons())
    std::printf("\n                         %s: %s", d.name.c_str(), d.help.c_str());
  std::printf(
      "\n  --vici path          charon's VICI socket (default /var/run/charon.vici)\n"
      "  --keys dir           where the keys of ike rules without psk are, in\n"
      "                       isakmpd's layout (default /etc/isakmpd): charon is\n"
      "                       given them\n"
      "  --ike-version v      the IKE version of ike rules: 1 (isakmpd's IKEv1, the\n"
      "                       default), 2 (IKEv2), or any (IKEv1 rules that charon\n"
      "                       also speaks as IKEv2); a file sets it for the rules\n"
      "                       after it with ipsecctl_ike_version = \"2\"\n"
      "  --wait[=seconds]     after -f, wait (default 30 s) for the active and dynamic\n"
      "                       tunnels to come up; name each one that did not, with the\n"
      "                       daemon's reasons, and exit 1 (nothing is unloaded)\n"
      "  --wait-daemon[=seconds]  with ike rules, wait (default 30 s) for an IKE daemon\n"
      "                       that is still starting (ipsecctl.service does)\n"
      "  --allow-static-aead  let manual SAs use AES-GCM/GMAC and ChaCha20-Poly1305\n"
      "  --iked               the file is OpenBSD's iked.conf(5) (IKEv2 policies):\n"
      "                       -n -v prints them as `iked -n -v` does\n"
      "  --diagnostics when   auto (carets on a terminal), caret, or plain (OpenBSD's\n"
      "                       text only)\n"
      "  --color when         auto, always or never, for carets\n"
      "  --help, --version\n"
      "\n"
      "Exit status: 0 on success, 1 on a usage error, a configuration error or a\n"
      "failure to load; with --diff, 2 when a load would change something.\n"
      "See ipsecctl(8) and ipsecctl.conf(5).\n");
}

namespace {

// `-s` takes any prefix of flow, sa or all, tried in that order.
std::optional<ShowWhat> lookup_show(const char* word) {
  if (word == nullptr || *word == '\0') return std::nullopt;
  static const std::pair<const char*, ShowWhat> kChoices[] = {
      {"flow", ShowWhat::Flows}, {"sa", ShowWhat::Sas}, {"all", ShowWhat::All}};
  for (const auto& [name, what] : kChoices)
    if (std::strncmp(word, name, std::strlen(word)) == 0) return what;
  return std::nullopt;
}

// --diagnostics and --color: auto or one of two words; false after saying
// what the option takes.
bool take_when(const std::string& value, const char* option, const char* always,
               const char* never, When& into) {
  if (value == "auto") into = When::Auto;
  else if (value == always) into = When::Always;
  else if (value == never) into = When::Never;
  else {
    std::fprintf(stderr, "ipsecctl: --%s takes auto, %s or %s\n", option, always, never);
    return false;
  }
  return true;
}

const char* format_name(Format f) {
  switch (f) {
    case Format::Text: return "text";
    case Format::Json: return "json";
    case Format::Prometheus: return "prometheus";
    case Format::Swanctl: return "swanctl";
  }
  return "text";
}

// -j and --format set one value: asking for two different formats is an
// error, not a silent choice.
bool take_format(Format f, Options& o) {
  if (o.format != Format::Text && o.format != f) {
    std::fprintf(stderr, "ipsecctl: output format %s or %s: choose one\n", format_name(o.format),
                 format_name(f));
    return false;
  }
  o.format = f;
  return true;
}

// One long option, its value already split off or taken from the next
// word; false after saying what is wrong.
bool apply_long_option(const std::string& name, bool has_value, const std::string& value,
                       Options& o) {
  if (name == "ike") {
    if (value != "auto" && backends::find_ike_daemon(value) == nullptr) {
      std::fprintf(stderr, "ipsecctl: unknown IKE daemon '%s' (known: %s)\n", value.c_str(),
                   backends::ike_daemon_names().c_str());
      return false;
    }
    o.ike = value;
  } else if (name == "vici") {
    o.vici = value;
  } else if (name == "keys") {
    o.keys = value;
    o.keys_given = true;
  } else if (name == "kernel") {
    if (backends::find_kernel_interface(value) == nullptr) {
      std::fprintf(stderr, "ipsecctl: unknown kernel interface '%s' (known: %s)\n",
                   value.c_str(), backends::kernel_interface_names().c_str());
      return false;
    }
    o.kernel = value;
  } else if (name == "diagnostics") {
    return take_when(value, "diagnostics", "caret", "plain", o.carets);
  } else if (name == "color" || name == "colour") {
    return take_when(value, "color", "always", "never", o.color);
  } else if (name == "wait" || name == "wait-daemon") {
    unsigned long seconds = 30;
    if (has_value) {
      char* end = nullptr;
      seconds = std::strtoul(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || seconds == 0 || seconds > 86400) {
        std::fprintf(stderr, "ipsecctl: --%s takes a number of seconds from 1 to 86400\n",
                     name.c_str());
        return false;
      }
    }
    if (name == "wait") o.wait = static_cast<unsigned>(seconds);
    else o.wait_daemon = static_cast<unsigned>(seconds);
  } else if (name == "allow-static-aead") {
    o.allow_static_aead = true;
  } else if (name == "iked") {
    o.iked = true;
  } else if (name == "json") {
    return take_format(Format::Json, o);
  } else if (name == "ike-version") {
    auto version = ike_version_from_text(value);
    if (!version) {
      std::fprintf(stderr, "ipsecctl: --ike-version takes 1, 2 or any\n");
      return false;
    }
    o.ike_version = *version;
  } else if (name == "diff") {
    o.diff = true;
  } else if (name == "as") {
    o.record_as = value;
  } else if (name == "format") {
    for (Format f : {Format::Text, Format::Json, Format::Prometheus, Format::Swanctl})
      if (value == format_name(f)) return f == Format::Text || take_format(f, o);
    std::fprintf(stderr, "ipsecctl: --format takes text, json, prometheus or swanctl\n");
    return false;
  } else if (name == "help") {
    o.help = true;
  } else if (name == "version") {
    o.version = true;
  } else {
    std::fprintf(stderr, "ipsecctl: unknown option --%s\n", name.c_str());
    return false;
  }
  return true;
}

// Takes the long options (--name value or --name=value) out of argv before
// getopt sees it, so the short options keep BSD getopt's exact behaviour.
bool take_long_options(int& argc, char** argv, Options& o) {
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") {  // everything after it stays for getopt
      while (i < argc) argv[kept++] = argv[i++];
      break;
    }
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      argv[kept++] = argv[i];
      continue;
    }
    std::string name = arg.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    const bool takes_value = name == "kernel" || name == "ike" || name == "vici" || name == "keys" ||
                             name == "diagnostics" || name == "color" || name == "format" ||
                             name == "as" || name == "ike-version";
    if (takes_value && !has_value) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "ipsecctl: option --%s needs a value\n", name.c_str());
        return false;
      }
      value = argv[++i];
      has_value = true;
    }
    if (!takes_value && has_value && name != "wait" && name != "wait-daemon") {
      std::fprintf(stderr, "ipsecctl: option --%s takes no value\n", name.c_str());
      return false;
    }
    if (!apply_long_option(name, has_value, value, o)) return false;
  }
  argv[kept] = nullptr;
  argc = kept;
  return true;
}

}  // namespace

std::optional<Options> parse_options(int argc, char** argv) {
  if (argc < 2) {
    print_usage();
    return std::nullopt;
  }
  Options o;
  if (!take_long_options(argc, argv, o)) {
    print_usage();
    return std::nullopt;
  }
  if (o.help || o.version) return o;
  int ch;
  ::opterr = 0;  // report in BSD getopt's words below
  // '+': stop at the first operand, as BSD getopt does.
  while ((ch = ::getopt(argc, argv, "+cD:df:Fi:jkmnvs:")) != -1) {
    switch (ch) {
      case 'c': o.collapse = true; break;
      case 'D':
        if (std::strchr(optarg, '=') == nullptr)
          std::fprintf(stderr, "ipsecctl: could not parse macro definition %s\n", optarg);
        else
          o.defines.emplace_back(optarg);
        break;
      case 'd': o.deleting = true; break;
      case 'f': o.file = optarg; break;
      case 'F': o.flush = true; break;
      case 'i': o.fifo = optarg; break;
      case 'j':
        if (!take_format(Format::Json, o)) return std::nullopt;
        break;
      case 'k': o.show_keys = true; break;
      case 'm': o.monitor = true; break;
      case 'n': o.no_action = true; break;
      case 'v': ++o.verbose; break;
      case 's':
        o.show = lookup_show(optarg);
        if (!o.show) {
          std::fprintf(stderr, "ipsecctl: Unknown show modifier '%s'\n", optarg);
          print_usage();
          return std::nullopt;
        }
        break;
      default:
        if (std::strchr("Dfis", ::optopt) != nullptr)
          std::fprintf(stderr, "ipsecctl: option requires an argument -- %c\n", ::optopt);
        else
          std::fprintf(stderr, "ipsecctl: unknown option -- %c\n", ::optopt);
        print_usage();
        return std::nullopt;
    }
  }
  if (optind != argc) {
    std::fprintf(stderr, "ipsecctl: unknown command line argument: %s ...\n", argv[optind]);
    print_usage();
    return std::nullopt;
  }
  if (!o.record_as.empty() && (!o.file || o.no_action)) {
    std::fprintf(stderr, "ipsecctl: --as goes with -f file (and not with -n)\n");
    return std::nullopt;
  }
  if (o.diff && (!o.file || o.no_action)) {
    std::fprintf(stderr, "ipsecctl: --diff goes with -f file (and not with -n)\n");
    return std::nullopt;
  }
  if (o.format == Format::Prometheus && !o.show) {
    std::fprintf(stderr, "ipsecctl: --format prometheus goes with -s\n");
    return std::nullopt;
  }
  // iked keeps its keys in the same layout under /etc/iked.
  if (o.iked && !o.keys_given) o.keys = "/etc/iked";
  if (o.iked && !o.file) {
    std::fprintf(stderr, "ipsecctl: --iked goes with -f file\n");
    return std::nullopt;
  }
  if (o.format == Format::Swanctl && (!o.file || !o.no_action || o.deleting)) {
    std::fprintf(stderr, "ipsecctl: --format swanctl goes with -n -f file\n");
    return std::nullopt;
  }
  return o;
}

}  // namespace ipsecctl::cli
