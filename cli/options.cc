#include "cli/options.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace ipsecctl::cli {

void print_usage() {
  std::fprintf(stderr,
               "usage: ipsecctl [-cdFkmnv] [-D macro=value] [-f file] [-i fifo] [-s modifier]\n");
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
}  // namespace

namespace {
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
    const bool takes_value = name == "kernel" || name == "ike" || name == "vici";
    if (takes_value && !has_value) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "ipsecctl: option --%s needs a value\n", name.c_str());
        return false;
      }
      value = argv[++i];
      has_value = true;
    }
    if (name == "ike") {
      if (value != "auto" && value != "isakmpd" && value != "vici") {
        std::fprintf(stderr, "ipsecctl: unknown IKE daemon '%s' (known: auto, isakmpd, vici)\n",
                     value.c_str());
        return false;
      }
      o.ike = value;
    } else if (name == "vici") {
      o.vici = value;
    } else if (name == "kernel") {
      if (!has_value) {
        if (i + 1 >= argc) {
          std::fprintf(stderr, "ipsecctl: option --%s needs a value\n", name.c_str());
          return false;
        }
        value = argv[++i];
      }
      if (value != "xfrm" && value != "pfkey") {
        std::fprintf(stderr, "ipsecctl: unknown kernel interface '%s' (known: xfrm, pfkey)\n",
                     value.c_str());
        return false;
      }
      o.kernel = value;
    } else if (name == "allow-static-aead" && !has_value) {
      o.allow_static_aead = true;
    } else {
      std::fprintf(stderr, "ipsecctl: unknown option --%s\n", name.c_str());
      return false;
    }
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
  int ch;
  ::opterr = 0;  // report in BSD getopt's words below
  // '+': stop at the first operand, as BSD getopt does.
  while ((ch = ::getopt(argc, argv, "+cD:df:Fi:kmnvs:")) != -1) {
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
  return o;
}

}  // namespace ipsecctl::cli
