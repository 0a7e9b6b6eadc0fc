// Fuzz target: iked.conf(5) text through its scanner, grammar and the
// policy builder (offline: no name service), and every policy and user it
// makes through the `iked -n -v` rendering.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "common/diagnostics.h"
#include "compiler/iked/iked_builder.h"
#include "output/iked_text.h"
#include "parser/iked/iked_driver.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ipsecctl;
  static std::FILE* sink = std::fopen("/dev/null", "w");
  Diagnostics diagnostics(sink);
  diagnostics.set_style(size % 2 == 0 ? DiagnosticStyle::Caret : DiagnosticStyle::OpenBsd, true);
  std::size_t printed = 0;
  iked::ConfigBuilder builder(
      [&](const iked::Config& config, iked::Config::Kind kind, std::size_t index) {
        printed += kind == iked::Config::Kind::User
                       ? output::render_iked_user(config.users[index]).size()
                       : output::render_iked_policy(config.policies[index]).size();
      });
  builder.set_offline(true);
  iked::Driver driver(diagnostics, builder);
  const iked::ParseResult result =
      driver.parse_text("fuzz.conf", std::string(reinterpret_cast<const char*>(data), size));
  diagnostics.flush();
  // A policy is only made from a statement that parsed.
  if (printed > 0 && builder.config().order.empty()) __builtin_trap();
  (void)result;
  return 0;
}
