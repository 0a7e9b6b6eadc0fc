// What a load changed (-f -v) or would change (--diff), as lines:
//   + flow esp out from 10.1.0.0/16 to 10.2.0.0/16 peer 192.0.2.2 type require
//   ~ flow esp out from 10.1.0.0/16 to 10.3.0.0/16 peer 192.0.2.33 type require
//       was: flow esp out from 10.1.0.0/16 to 10.3.0.0/16 peer 192.0.2.3 type require
//   - esp tunnel from 192.0.2.1 to 192.0.2.2 spi 0x00001000 auth hmac-sha2-256 enc aes
//   + charon (VICI) connection peer-192.0.2.2
// Kernel entries in `-s` form (keys only with -k), daemon entries by name
// (never a secret's value), then one summary line per backend, starting
// with "#".
#pragma once

#include <string>
#include <vector>

#include "backends/changes.h"
#include "compiler/resolver.h"

namespace ipsecctl::output {

std::string render_changes_text(const std::vector<backends::BackendChanges>& changes,
                                compiler::Resolver& resolver, bool show_keys);

}  // namespace ipsecctl::output
