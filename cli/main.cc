// ipsecctl: options, dispatch, exit status. Everything else lives in the
// parser, compiler and backends libraries.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "cli/options.h"
#include "compiler/compile_config.h"
#include "compiler/resolver.h"
#include "parser/diagnostics.h"

namespace {

using namespace ipsecctl;

// stdout is buffered like OpenBSD's stdio on a pipe, so diagnostics on
// (unbuffered) stderr come first when both go to one pipe.
char g_stdout_buffer[16384];

int run(const cli::Options& options) {
  Diagnostics diagnostics;
  compiler::SystemResolver resolver;
  int status = 0;

  if (options.flush && !options.no_action) {
    diagnostics.note("-F needs a kernel backend, and this build has none yet");
    status = 1;
  }

  if (options.file) {
    compiler::CompileRequest request;
    request.path = *options.file;
    request.defines = options.defines;
    request.print_rules = options.verbose > 0 && !options.show;
    request.print.rule_numbers = options.verbose > 1;
    request.print.deleting = options.deleting;
    request.print.show_keys = options.show_keys;
    request.report_unused_macros = options.verbose > 1;
    auto result = compiler::compile_config(request, resolver, diagnostics);
    if (!result.ok()) {
      diagnostics.note("Syntax error in config file: ipsec rules not loaded");
      status = 1;
    } else if (!options.no_action && !result.plan.empty()) {
      diagnostics.note(std::string(options.deleting ? "removing" : "loading") +
                       " rules needs a kernel or IKE daemon backend, and this build has none "
                       "yet; nothing was changed (use -n to check the file)");
      status = 1;
    }
  }

  if (options.show) {
    diagnostics.note("-s needs a kernel backend, and this build has none yet");
    status = 1;
  }
  if (options.monitor) {
    diagnostics.note("-m needs a kernel backend, and this build has none yet");
    status = 1;
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  if (!::isatty(STDOUT_FILENO))
    std::setvbuf(stdout, g_stdout_buffer, _IOFBF, sizeof g_stdout_buffer);
  auto options = ipsecctl::cli::parse_options(argc, argv);
  if (!options) return 1;
  int status;
  try {
    status = run(*options);
  } catch (const ipsecctl::FatalError& fatal) {
    std::fprintf(stderr, "ipsecctl: %s\n", fatal.what());
    status = 1;
  }
  std::fflush(stdout);
  return status;
}
