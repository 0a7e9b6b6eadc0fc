// What an iked.conf(5) means: the users, the global settings and the
// ikev2 policies, as OpenBSD's iked builds them from the file (Debian's
// openiked 7.2 is the reference). Data only: output/iked_text.cc renders
// it the way `iked -n -v` prints it, and the charon translation loads it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/source_location.h"
#include "parser/iked/iked_syntax.h"

namespace ipsecctl::iked {

struct Flow {
  Address src;
  Address dst;
  std::optional<Address> prenat;  // `from A (B)`: B before NAT
  int ipproto = 0;                // 0: any
};

struct Proposal {
  bool ike = true;  // ikesa; false: childsa
  std::vector<Transform> transforms;
};

// A `config` or `request` attribute: its IKEv2 configuration attribute
// type as iked chose it (by name and by the family of the first address).
struct ConfigAttribute {
  std::uint16_t type = 0;
  bool request = false;
  Address address;
};

struct Policy {
  std::string name;
  unsigned flags = 0;
  int saproto = 3;
  std::vector<int> ipprotos;
  int family = 0;
  std::vector<Flow> flows;  // in iked's order (its flow tree)
  Address local;
  Address peer;
  std::vector<Proposal> proposals;
  std::string srcid;
  std::string dstid;
  std::uint32_t ike_rekey_seconds = 0;  // ikelifetime; 0: iked's default
  Lifetime lifetime;
  Auth auth;
  std::vector<ConfigAttribute> config;
  std::string iface;
  std::string tag;
  unsigned tap = 0;
  SourceLocation origin;
};

struct User {
  std::string name;
  std::string password;
  SourceLocation origin;
};

struct Config {
  Settings settings;
  std::vector<User> users;
  std::vector<Policy> policies;
  // Users and policies in the order the file gives them (iked prints them
  // as it reads them).
  enum class Kind : std::uint8_t { User, Policy };
  std::vector<std::pair<Kind, std::size_t>> order;
};

}  // namespace ipsecctl::iked
