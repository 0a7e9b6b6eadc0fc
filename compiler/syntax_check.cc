#include "compiler/syntax_check.h"

#include <memory>

#include "compiler/plan.h"
#include "compiler/transforms.h"
#include "parser/macro_table.h"
#include "parser/parse_driver.h"
#include "parser/semantics.h"

namespace ipsecctl::compiler {

namespace {

// Thrown to stop reading at the first rule that is not a flow.
struct NotOnlyFlows {};

// Says yes to everything the grammar asks, and counts the statements.
class ShapeOnly final : public parser::Semantics {
 public:
  ShapeOnly(SyntaxShape& shape, bool flows_only) : shape_(shape), flows_only_(flows_only) {}

  parser::HostRef host(const std::string&) override { return host_; }
  parser::HostRef any_host() override { return host_; }
  bool attach_nat(const parser::HostRef&, const parser::HostRef&) override { return true; }
  bool check_destination(const parser::HostList&) override { return true; }
  std::optional<int> protocol(const std::string&) override { return 0; }
  std::optional<int> protocol(long long) override { return 0; }
  std::optional<std::uint16_t> port(const std::string&) override { return 1; }
  std::optional<std::uint16_t> port(long long) override { return 1; }
  std::optional<parser::SpiClause> spi(const std::string&) override { return parser::SpiClause{}; }
  std::optional<parser::SpiClause> spi(long long) override { return parser::SpiClause{}; }
  parser::TransformsRef new_transforms() override { return transforms_; }
  void add_transform(const parser::TransformsRef&, parser::TransformKind,
                     const std::string&) override {}
  parser::KeysRef key_literal(const std::string&) override { return keys_; }
  parser::KeysRef key_file(const std::string&) override { return keys_; }
  long long lifetime(long long seconds) override { return seconds; }
  long long lifetime(const std::string&) override { return 0; }
  std::optional<unsigned> sec_interface(const std::string&) override { return 1; }
  bool id_takes_prefix(const std::string&) override { return true; }
  std::optional<std::string> id_with_prefix(const std::string& id, long long) override {
    return id;
  }

  bool macro_defined(const std::string&, const std::string&) override { return true; }
  bool ike_rule(parser::IkeRule&&) override {
    ++shape_.ike_rules;
    return not_a_flow();
  }
  bool flow_rule(parser::FlowRule&&) override {
    ++shape_.flow_rules;
    return true;
  }
  bool sa_rule(parser::SaRule&&) override {
    ++shape_.sa_rules;
    return not_a_flow();
  }
  bool tcpmd5_rule(parser::Tcpmd5Rule&&) override {
    ++shape_.sa_rules;
    return not_a_flow();
  }

 private:
  bool not_a_flow() const {
    if (flows_only_) throw NotOnlyFlows{};
    return true;
  }

  SyntaxShape& shape_;
  bool flows_only_;
  // One shared answer each: the grammar only stores and forwards them.
  parser::HostRef host_ = std::make_shared<HostNode>();
  parser::TransformsRef transforms_ = std::make_shared<TransformSet>();
  parser::KeysRef keys_ = std::make_shared<KeyPair>();
};

}  // namespace

SyntaxShape check_syntax(const std::string& path, const std::vector<std::string>& defines,
                         bool flows_only) {
  SyntaxShape shape;
  Diagnostics silent(nullptr);
  parser::MacroTable macros;
  try {
    for (const auto& d : defines) macros.define_from_command_line(d);
    ShapeOnly semantics(shape, flows_only);
    parser::ParseOptions options;
    options.check_file_secrecy = false;
    parser::ParseDriver driver(semantics, silent, macros, options);
    const bool readable = driver.parse(path);
    silent.flush();
    shape.clean = readable && silent.error_count() == 0;
  } catch (const FatalError&) {
    shape.clean = false;
  } catch (const NotOnlyFlows&) {
    shape.clean = false;
  }
  return shape;
}

}  // namespace ipsecctl::compiler
