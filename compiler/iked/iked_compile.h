// One iked.conf(5), read and understood: the front door for `--iked`.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/diagnostics.h"
#include "compiler/iked/iked_builder.h"
#include "compiler/iked/iked_config.h"

namespace ipsecctl::iked {

struct CompileResult {
  Config config;
  // Errors iked would have counted; the file is refused when any.
  int errors = 0;
  // iked stopped at once (its fatal() or err()); already printed.
  bool fatal = false;
  bool opened = true;  // false: the file itself could not be read
  bool ok() const { return errors == 0 && !fatal; }
};

// Reads `path` ("-": standard input) as `iked -n` does, printing its
// messages through `diagnostics`. `defines` are -D name=value; `listener`
// hears of each user and policy as it is made.
CompileResult compile_file(const std::string& path,
                           const std::vector<std::pair<std::string, std::string>>& defines,
                           Diagnostics& diagnostics, ConfigBuilder::Listener listener = {});

}  // namespace ipsecctl::iked
