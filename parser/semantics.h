// What the grammar asks of the compiler while it reads a statement.
//
// OpenBSD's ipsecctl resolves hosts, looks up protocols and checks
// transforms inside its grammar actions; errors appear in that order and a
// failing lookup drops the rest of the line. To keep that observable
// behaviour while keeping meaning out of the parser, the grammar calls these
// hooks at the same points. A null/empty answer means the compiler has
// already reported the problem and the statement is abandoned (YYERROR).
#pragma once

#include <optional>
#include <string>

#include "parser/syntax.h"

namespace ipsecctl::parser {

class Semantics {
 public:
  virtual ~Semantics() = default;

  // Expressions.
  virtual HostRef host(const std::string& spec) = 0;
  virtual HostRef any_host() = 0;
  virtual bool attach_nat(const HostRef& host, const HostRef& nat) = 0;
  virtual bool check_destination(const HostList& dst) = 0;
  virtual std::optional<int> protocol(const std::string& name) = 0;
  virtual std::optional<int> protocol(long long number) = 0;
  virtual std::optional<std::uint16_t> port(const std::string& name) = 0;
  virtual std::optional<std::uint16_t> port(long long number) = 0;
  virtual std::optional<SpiClause> spi(const std::string& text) = 0;
  virtual std::optional<SpiClause> spi(long long number) = 0;
  virtual TransformsRef new_transforms() = 0;
  virtual void add_transform(const TransformsRef& set, TransformKind kind,
                             const std::string& name) = 0;
  virtual KeysRef key_literal(const std::string& text) = 0;
  virtual KeysRef key_file(const std::string& paths) = 0;
  virtual long long lifetime(long long seconds) = 0;
  virtual long long lifetime(const std::string& text) = 0;
  virtual std::optional<unsigned> sec_interface(const std::string& name) = 0;
  // `srcid ADDRESS/PREFIX`: an extension over OpenBSD, which has no
  // prefix form for identities (see README, "Extensions"). The first
  // question is asked when the '/' is read (no: OpenBSD's syntax error).
  virtual bool id_takes_prefix(const std::string& id) = 0;
  virtual std::optional<std::string> id_with_prefix(const std::string& id,
                                                    long long prefix) = 0;

  // Statements, handed over when their terminating newline is seen.
  virtual bool macro_defined(const std::string& name, const std::string& value) = 0;
  virtual bool ike_rule(IkeRule&& rule) = 0;
  virtual bool flow_rule(FlowRule&& rule) = 0;
  virtual bool sa_rule(SaRule&& rule) = 0;
  virtual bool tcpmd5_rule(Tcpmd5Rule&& rule) = 0;
};

}  // namespace ipsecctl::parser
