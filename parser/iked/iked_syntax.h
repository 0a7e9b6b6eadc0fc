// The values an iked.conf(5) statement is made of, as the grammar hands
// them to the semantics (compiler/iked): addresses as iked resolves them,
// transform lists, identities, lifetimes. Kept in iked's own terms where
// its output depends on them (ports in network byte order, transform
// key lengths in bits).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ipsecctl::iked {

struct Address {
  int family = 0;  // AF_UNSPEC, AF_INET or AF_INET6
  std::array<std::uint8_t, 16> bytes{};  // network order; IPv4 in [0..3]
  std::uint32_t scope_id = 0;
  std::uint8_t mask = 0;
  bool network = false;        // written with a prefix length (or `any`)
  std::uint16_t port_be = 0;   // network byte order, as iked keeps it
};

enum class HostKind : std::uint8_t { Address, Any, Dynamic };

// One address a host word stood for; a word can stand for several (an
// interface's addresses, a name's).
struct Host {
  HostKind kind = HostKind::Address;
  Address address;
  // An interface's name; empty for an address, whose name in iked's
  // messages is display_name() (made only when a message needs it).
  std::string name;
  std::optional<Address> srcnat;  // `host (nat-host)`; only on a list's first
  bool has_srcnat_name = false;
};
using HostList = std::vector<Host>;

struct HostPairs {
  HostList src;
  HostList dst;
};

struct Peers {
  std::optional<HostList> local;
  std::optional<HostList> peer;
};

// RFC 7296's transform types, in the order iked prints them.
enum class TransformType : std::uint8_t { Encr = 1, Prf = 2, Integ = 3, Dh = 4, Esn = 5 };

struct Transform {
  TransformType type = TransformType::Encr;
  std::uint16_t id = 0;
  std::uint16_t key_bits = 0;     // iked's xform_keylength
  std::uint16_t length_bits = 0;  // iked's xform_length (selects the name)
};

struct TransformName;

// One `ikesa ...` or `childsa ...` group, each list as written.
struct TransformSet {
  std::vector<const TransformName*> integ, encr, prf, dh, esn;
};
// A missing list (`ikesa` with nothing after it) is kept as null. (Held by
// pointer: the parser moves its values many times per statement.)
using TransformSetPtr = std::shared_ptr<const TransformSet>;
using TransformSets = std::optional<std::vector<TransformSetPtr>>;

// IKEv2 authentication methods (RFC 7296 and 7427 numbers).
enum class AuthMethod : std::uint8_t {
  None = 0,
  Rsa = 1,
  Psk = 2,
  Ecdsa256 = 9,
  Ecdsa384 = 10,
  Ecdsa521 = 11,
  Signature = 14,      // rfc7427
  SignatureAny = 254,  // iked's "signature": any of the above
};

struct Auth {
  AuthMethod method = AuthMethod::SignatureAny;
  bool eap_mschapv2 = false;
  std::vector<std::uint8_t> psk;
};

struct Ids {
  std::optional<std::string> srcid;
  std::optional<std::string> dstid;
};

struct Lifetime {
  std::uint64_t seconds = 10800;
  std::uint64_t bytes = 4294967296ULL;
};

// A `config NAME host` or `request NAME host`, before iked picks the
// attribute type.
struct ConfigValue {
  std::uint16_t type = 0;
  bool request = false;
  HostList hosts;
};

struct Filters {
  std::optional<std::string> tag;
  unsigned tap = 0;
};

enum PolicyFlag : unsigned {
  kActive = 0x01,
  kDefault = 0x04,
  kQuick = 0x08,
  kSkip = 0x10,
  kIpcomp = 0x20,
  kTransport = 0x40,
  kRouting = 0x80,  // iface secN
};

// A value the grammar hands along by pointer: Bison's C++ parser moves
// every value several times per statement, at the cost of the largest
// type's size; boxed, none is larger than a string. Empty means absent;
// writing through -> makes it present.
template <class T>
class Box {
 public:
  Box() = default;
  explicit Box(T value) : p_(std::make_shared<T>(std::move(value))) {}
  bool present() const { return p_ != nullptr; }
  T* operator->() {
    if (!p_) p_ = std::make_shared<T>();
    return p_.get();
  }
  // The value (a default one when absent), for keeping.
  T take() const { return p_ ? std::move(*p_) : T{}; }
  std::optional<T> take_optional() const {
    return p_ ? std::optional<T>(std::move(*p_)) : std::nullopt;
  }

 private:
  std::shared_ptr<T> p_;
};

// An `ikev2` statement, as parsed.
struct IkeRule {
  std::optional<std::string> name;
  unsigned flags = 0;
  int saproto = 3;  // IKEv2 protocol ids: 3 ESP, 2 AH
  int family = 0;
  std::vector<int> ipprotos;
  int rdomain = -1;
  HostPairs hosts;
  Peers peers;
  TransformSets ike_sas;
  TransformSets child_sas;
  Ids ids;
  long long ike_lifetime = 0;
  Lifetime lifetime;
  Auth auth;
  std::vector<ConfigValue> config;
  std::optional<std::string> iface;
  std::optional<Filters> filters;
};

// The `set` options (iked's globals).
struct Settings {
  bool passive = false;
  bool decouple = false;
  bool mobike = true;
  bool fragmentation = false;
  bool vendorid = true;
  bool enforce_single_ikesa = false;
  bool sticky_address = false;
  bool cert_partial_chain = false;
  std::optional<std::string> ocsp_url;
  long long ocsp_tolerate = 0;
  long long ocsp_maxage = -1;
  std::optional<long long> dpd_check_interval;
};

}  // namespace ipsecctl::iked
