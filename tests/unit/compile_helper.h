// Runs the parser and compiler over text in memory, with an injected
// resolver, and captures what they print.
#pragma once

#include <cstdio>
#include <string>

#include "compiler/plan.h"
#include "compiler/rule_compiler.h"
#include "compiler/rule_text.h"
#include "output/rule_printer.h"
#include "parser/macro_table.h"
#include "parser/parse_driver.h"
#include "tests/captured_stream.h"
#include "tests/unit/fake_resolver.h"

namespace ipsecctl::testing {

struct Compiled {
  compiler::Plan plan;
  std::string out;  // what -v prints
  std::string err;  // diagnostics
  int errors = 0;
};

inline Compiled compile(const std::string& text, FakeResolver& resolver,
                        output::PrintOptions print = {}, bool verbose = true,
                        parser::ParseOptions parse = {}, bool carets = false) {
  Compiled result;
  CapturedStream out, err;
  Diagnostics diagnostics(err.get());
  if (carets) diagnostics.set_style(DiagnosticStyle::Caret, false);
  output::RulePrinter printer(out.get(), resolver, diagnostics, print);
  compiler::RuleCompiler rules(resolver, diagnostics, result.plan, verbose ? &printer : nullptr);
  parser::MacroTable macros;
  parser::ParseDriver driver(rules, diagnostics, macros, parse);
  driver.parse_text("test.conf", text);
  result.out = out.text();
  result.err = err.text();
  result.errors = diagnostics.error_count();
  return result;
}

// Everything one parse prints, messages and rules in the order they came
// out (one stream for both), and its error count.
inline std::string transcript(const std::string& text, parser::ParseOptions parse, bool carets) {
  FakeResolver resolver;
  CapturedStream out;
  int errors = 0;
  {
    Diagnostics diagnostics(out.get());
    if (carets) diagnostics.set_style(DiagnosticStyle::Caret, false);
    compiler::Plan plan;
    output::RulePrinter printer(out.get(), resolver, diagnostics, {});
    compiler::RuleCompiler rules(resolver, diagnostics, plan, &printer);
    parser::MacroTable macros;
    parser::ParseDriver driver(rules, diagnostics, macros, parse);
    try {
      driver.parse_text("test.conf", text);
    } catch (const FatalError& e) {
      std::fprintf(out.get(), "fatal: %s\n", e.what());
    }
    diagnostics.flush();
    errors = diagnostics.error_count();
  }
  return out.text() + "errors: " + std::to_string(errors) + "\n";
}

inline Compiled compile(const std::string& text) {
  FakeResolver resolver;
  return compile(text, resolver);
}

}  // namespace ipsecctl::testing
