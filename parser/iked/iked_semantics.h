// What the iked.conf grammar asks of the compiler while it reads, at the
// points where iked itself does the work inside its grammar actions
// (resolving a host, building a policy): an error there abandons the
// statement exactly where iked's YYERROR does, so messages come in the
// same order and name the same line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/source_location.h"
#include "parser/iked/iked_syntax.h"

namespace ipsecctl::iked {

// Where messages go, as iked prints them.
class Reporter {
 public:
  virtual ~Reporter() = default;
  // yyerror(): "<file>: <line>: message", counted against the file.
  virtual void error(const std::string& message) = 0;
  // warn()/warnx(): the program's name, then the message.
  virtual void warning(const std::string& message) = 0;
  // A line printed as is (fprintf(stderr, ...)).
  virtual void plain(const std::string& line) = 0;
  // fatal()/err(): the message (none if empty), then iked exits with
  // status 1.
  [[noreturn]] virtual void fatal(const std::string& message) = 0;
  // The file and line iked would name now: where a policy comes from.
  virtual SourceLocation here() const = 0;
};

class Semantics {
 public:
  virtual ~Semantics() = default;
  // iked's host(): the addresses a word stands for; nullopt after printing
  // what iked prints when it has none.
  virtual std::optional<HostList> host(const std::string& word, Reporter& reporter) = 0;
  virtual std::optional<int> protocol_number(const std::string& name) = 0;
  // getservbyname(name, proto): the port in network byte order.
  virtual std::optional<std::uint16_t> service_port(const std::string& name,
                                                    const char* proto) = 0;
  // iked's create_ike(): false after its error message.
  virtual bool create_ike(IkeRule rule, Reporter& reporter) = 0;
  // iked's create_user(): false after its error message.
  virtual bool create_user(const std::string& name, const std::string& password,
                           Reporter& reporter) = 0;
  // A `psk file PATH`: the file's text (hex digits), after iked's
  // checks of its owner, mode and size (each of which ends the run).
  virtual std::optional<std::string> key_file(const std::string& path, Reporter& reporter) = 0;
};

}  // namespace ipsecctl::iked
