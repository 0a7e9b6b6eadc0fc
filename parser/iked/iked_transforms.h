// iked's names for IKEv2 transforms, authentication methods and
// configuration attributes, and the proposals it offers by default.
//
// These are facts of iked.conf(5) as Debian's openiked 7.2 reads it: the
// names (matched by prefix, in table order, as iked does: "aes" is
// aes-128), the IKEv2 numbers, and the key lengths that pick a name when
// a transform is printed. The Linux build offers no AES-GCM child SA by
// default and no HMAC-SHA2-256 for ESP (the kernel's PF_KEY truncates it
// differently), and neither do we: what `iked -n -v` prints on Debian is
// the reference.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "parser/iked/iked_syntax.h"

namespace ipsecctl::iked {

struct TransformName {
  std::string_view name;
  std::uint16_t id;
  std::uint8_t length = 0;     // bytes; for config attributes: the family
  std::uint8_t keylength = 0;  // bytes
  std::uint8_t nonce = 0;
  bool implicit_auth = false;  // AEAD: no separate integrity transform
};

enum class NameTable : std::uint8_t {
  Integ,
  Prf,
  IkeEncr,
  EspEncr,
  Dh,
  Esn,
  AuthMethod,
  SaProto,
  Config,
};

std::span<const TransformName> table(NameTable which);

// iked's parse_xf(): the first entry the word is a prefix of, with the
// given length (0: any).
const TransformName* find_name(NameTable which, std::string_view word, unsigned length = 0);
// iked's print_xf(): the name of an id (and length, unless 0); "unknown".
std::string_view name_of(NameTable which, unsigned id, unsigned length = 0);

// The table a transform's name comes from.
NameTable table_for(TransformType type, bool ike);

// Default proposals, as iked fills in what a policy leaves out.
std::span<const Transform> default_ike_transforms();
std::span<const Transform> default_ike_aead_transforms();
std::span<const Transform> default_esp_transforms();

constexpr std::uint16_t kDhNone = 0;
constexpr std::uint16_t kEsnNone = 0;

// IKEv2 configuration attribute types iked knows by name.
enum ConfigType : std::uint16_t {
  kCfgIp4Address = 1,
  kCfgIp4Netmask = 2,
  kCfgIp4Dns = 3,
  kCfgIp4Nbns = 4,
  kCfgIp4Dhcp = 6,
  kCfgIp6Address = 8,
  kCfgIp6Dns = 10,
  kCfgIp6Dhcp = 12,
  kCfgIp4Subnet = 13,
  kCfgIp6Subnet = 15,
  kCfgIp6Nbns = 11,  // RFC 4306; reserved since RFC 7296
  kCfgIp4Server = 23456,
  kCfgIp6Server = 23457,
};

}  // namespace ipsecctl::iked
