// Fuzz target: configuration text, through the whole front half: scanner,
// grammar, compiler (with a resolver that knows no names, so nothing leaves
// the process), isakmpd command generation, and the -n JSON rendering.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/diagnostics.h"
#include "compiler/isakmpd_commands.h"
#include "compiler/rule_compiler.h"
#include "output/json_render.h"
#include "output/rule_printer.h"
#include "parser/lexer.h"
#include "parser/macro_table.h"
#include "parser/parse_driver.h"

namespace {

using namespace ipsecctl;

// Answers from tables only: no interfaces, no name service.
class OfflineResolver : public compiler::Resolver {
 public:
  std::optional<std::vector<std::pair<compiler::IpAddress, std::string>>> interface_addresses(
      const std::string& name) override {
    if (name == "lo0") return std::vector<std::pair<compiler::IpAddress, std::string>>{
        {*compiler::parse_ipv4("127.0.0.1"), "lo0"}};
    return std::nullopt;
  }
  std::vector<compiler::IpAddress> lookup_host(const std::string&) override { return {}; }
  std::optional<int> protocol_number(const std::string& name) override {
    return system_.protocol_number(name);
  }
  std::optional<std::string> protocol_name(int number) override {
    return system_.protocol_name(number);
  }
  std::optional<std::uint16_t> service_port(const std::string& name,
                                            const std::string& proto) override {
    return system_.service_port(name, proto);
  }
  std::optional<std::string> service_name(std::uint16_t port, const std::string& proto) override {
    return system_.service_name(port, proto);
  }
  std::string host_name() override { return "fuzz.example"; }

 private:
  compiler::SystemResolver system_;
};

// Everything one parse prints (messages, carets, rules) and how many
// errors it counted, with the lexer's quick way on or off.
std::string transcript(const std::string& text, bool quick, bool carets, std::size_t block) {
  char* buffer = nullptr;
  std::size_t length = 0;
  std::FILE* out = ::open_memstream(&buffer, &length);
  std::string result;
  {
    OfflineResolver resolver;
    Diagnostics diagnostics(out);
    if (carets) diagnostics.set_style(DiagnosticStyle::Caret, false);
    compiler::Plan plan;
    output::RulePrinter printer(out, resolver, diagnostics, output::PrintOptions{});
    compiler::RuleCompiler rules(resolver, diagnostics, plan, &printer);
    parser::MacroTable macros;
    macros.define("fuzz", "192.0.2.1", true);
    parser::ParseOptions options;
    options.check_file_secrecy = false;
    options.quick_scanning = quick;
    options.read_block_size = block;
    parser::ParseDriver driver(rules, diagnostics, macros, options);
    try {
      driver.parse_text("fuzz.conf", text);
    } catch (const FatalError& e) {
      result += std::string("fatal: ") + e.what() + "\n";
    }
    diagnostics.flush();
    result += "errors: " + std::to_string(diagnostics.error_count()) + "\n";
  }
  std::fclose(out);
  result.append(buffer, length);
  std::free(buffer);
  return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static std::FILE* sink = std::fopen("/dev/null", "w");
  OfflineResolver resolver;
  Diagnostics diagnostics(sink);
  // Carets on every other input: the record and rendering path is fuzzed too.
  diagnostics.set_style(size % 2 == 0 ? DiagnosticStyle::Caret : DiagnosticStyle::OpenBsd, true);
  compiler::Plan plan;
  output::RulePrinter printer(sink, resolver, diagnostics, output::PrintOptions{});
  compiler::RuleCompiler rules(resolver, diagnostics, plan, size % 3 == 0 ? &printer : nullptr);
  parser::MacroTable macros;
  macros.define("fuzz", "192.0.2.1", true);
  parser::ParseOptions options;
  options.check_file_secrecy = false;
  parser::ParseDriver driver(rules, diagnostics, macros, options);
  try {
    driver.parse_text("fuzz.conf", std::string(reinterpret_cast<const char*>(data), size));
  } catch (const FatalError&) {
    // OpenBSD's err(): a message and an exit, not a crash.
  }
  diagnostics.flush();
  for (const auto& ike : plan.ikes) {
    (void)compiler::isakmpd_add_commands(ike);
    (void)compiler::isakmpd_delete_commands(ike);
  }
  (void)output::render_plan_json(plan, diagnostics, output::PlanJsonOptions{});
  // The lexer takes runs of plain bytes in one step (parser/lexer.h); the
  // step-by-step way must print exactly the same, carets included, also
  // when blocks of a few bytes end the runs anywhere.
  const std::string text(reinterpret_cast<const char*>(data), size);
  const bool carets = size % 2 == 1;
  const std::size_t block = size % 3 == 0 ? parser::Lexer::kReadBlockSize : 1 + size % 7;
  if (transcript(text, true, carets, block) !=
      transcript(text, false, carets, parser::Lexer::kReadBlockSize))
    __builtin_trap();
  return 0;
}
