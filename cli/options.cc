#include "cli/options.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>

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

std::optional<Options> parse_options(int argc, char** argv) {
  if (argc < 2) {
    print_usage();
    return std::nullopt;
  }
  Options o;
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
