#include "compiler/compile_config.h"

#include "compiler/rule_compiler.h"
#include "parser/macro_table.h"
#include "parser/parse_driver.h"

namespace ipsecctl::compiler {

CompileResult compile_config(const CompileRequest& request, Resolver& resolver,
                             Diagnostics& diagnostics, std::FILE* out) {
  CompileResult result;
  parser::MacroTable macros;
  for (const auto& d : request.defines) macros.define_from_command_line(d);
  RulePrinter printer(out, resolver, diagnostics, request.print);
  RuleCompiler compiler(resolver, diagnostics, result.plan,
                        request.print_rules ? &printer : nullptr);
  compiler.allow_static_aead(request.allow_static_aead);
  compiler.printing_sets_dynamic_srcid(request.print_rules && !request.print.deleting);
  parser::ParseOptions options;
  options.check_file_secrecy = request.check_file_secrecy;
  options.report_unused_macros = request.report_unused_macros;
  parser::ParseDriver driver(compiler, diagnostics, macros, options);
  result.readable = driver.parse(request.path);
  result.errors = diagnostics.error_count();
  return result;
}

}  // namespace ipsecctl::compiler
