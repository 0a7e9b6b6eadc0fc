#include "compiler/iked/iked_compile.h"

#include "compiler/iked/iked_builder.h"
#include "parser/iked/iked_driver.h"

namespace ipsecctl::iked {

CompileResult compile_file(const std::string& path,
                           const std::vector<std::pair<std::string, std::string>>& defines,
                           Diagnostics& diagnostics, ConfigBuilder::Listener listener) {
  ConfigBuilder builder(std::move(listener));
  Driver driver(diagnostics, builder);
  const ParseResult parsed = driver.parse(path, defines);
  CompileResult result;
  result.errors = parsed.errors;
  result.fatal = parsed.fatal.has_value();
  result.opened = parsed.opened;
  result.config = std::move(builder.config());
  result.config.settings = parsed.settings;
  if (parsed.opened && !result.fatal && builder.rules() == 0)
    diagnostics.plain(path + ": no valid configuration rules found");
  return result;
}

}  // namespace ipsecctl::iked
