#include "compiler/compile_config.h"

#include "compiler/iked/iked_compile.h"
#include "parser/macro_table.h"
#include "parser/parse_driver.h"

namespace ipsecctl::compiler {

CompileResult compile_config(const CompileRequest& request, Resolver& resolver,
                             Diagnostics& diagnostics) {
  CompileResult result;
  compile_config(request, resolver, diagnostics, result);
  return result;
}

namespace {

void compile_iked(const CompileRequest& request, Diagnostics& diagnostics, CompileResult& result) {
  std::vector<std::pair<std::string, std::string>> defines;
  for (const std::string& d : request.defines) {
    // iked splits -D at the last '=' (cmdline_symset's strrchr).
    const auto eq = d.rfind('=');
    defines.emplace_back(d.substr(0, eq), d.substr(eq + 1));
  }
  iked::CompileResult compiled =
      iked::compile_file(request.path, defines, diagnostics, request.iked_listener);
  result.readable = compiled.opened;
  result.errors = compiled.errors;
  if (compiled.fatal) result.fatal = "iked.conf";
  result.plan.iked = std::make_shared<const iked::Config>(std::move(compiled.config));
  diagnostics.flush();
}

}  // namespace

void compile_config(const CompileRequest& request, Resolver& resolver, Diagnostics& diagnostics,
                    CompileResult& result) {
  if (request.language == Language::Iked) {
    compile_iked(request, diagnostics, result);
    return;
  }
  parser::MacroTable macros;
  for (const auto& d : request.defines) macros.define_from_command_line(d);
  RuleCompiler compiler(resolver, diagnostics, result.plan, request.listener);
  compiler.allow_static_aead(request.allow_static_aead);
  macros.read_by_ipsecctl(std::string(kIkeVersionMacro));
  compiler.ike_version(request.ike_version, false);
  if (const std::string* forced = macros.use(std::string(kIkeVersionMacro))) {
    auto version = ike_version_from_text(*forced);
    if (!version) {
      diagnostics.failure("-D " + std::string(kIkeVersionMacro) + "=" + *forced +
                          ": not an IKE version (1, 2 or any)");
      result.fatal = "bad " + std::string(kIkeVersionMacro);
      result.errors = diagnostics.error_count();
      return;
    }
    compiler.ike_version(*version, true);
  }
  compiler.printing_sets_dynamic_srcid(request.printing_adds);
  parser::ParseOptions options;
  options.check_file_secrecy = request.check_file_secrecy;
  options.report_unused_macros = request.report_unused_macros;
  parser::ParseDriver driver(compiler, diagnostics, macros, options);
  try {
    result.readable = driver.parse(request.path);
  } catch (const FatalError& fatal) {
    diagnostics.flush();
    diagnostics.failure(fatal.what());
    result.fatal = fatal.what();
  }
  diagnostics.flush();
  result.errors = diagnostics.error_count();
}

}  // namespace ipsecctl::compiler
