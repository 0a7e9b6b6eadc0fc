#include "parser/iked/iked_transforms.h"

#include <sys/socket.h>

#include <array>

namespace ipsecctl::iked {
namespace {

// IKEv2 transform ids (RFC 7296, 5282, 7634, 8031; iked's private ones).
enum : std::uint16_t {
  kEncr3des = 3,
  kEncrCast = 6,
  kEncrBlowfish = 7,
  kEncrNull = 11,
  kEncrAesCbc = 12,
  kEncrAesCtr = 13,
  kEncrAesGcm12 = 19,
  kEncrAesGcm16 = 20,
  kEncrNullAesGmac = 21,
  kEncrChacha20Poly1305 = 28,
  kPrfMd5 = 1,
  kPrfSha1 = 2,
  kPrfSha256 = 5,
  kPrfSha384 = 6,
  kPrfSha512 = 7,
  kIntegMd5 = 1,
  kIntegSha1 = 2,
  kIntegSha256 = 12,
  kIntegSha384 = 13,
  kIntegSha512 = 14,
  kDhModp768 = 1,
  kDhModp1024 = 2,
  kDhModp1536 = 5,
  kDhModp2048 = 14,
  kDhModp3072 = 15,
  kDhModp4096 = 16,
  kDhModp6144 = 17,
  kDhModp8192 = 18,
  kDhEcp256 = 19,
  kDhEcp384 = 20,
  kDhEcp521 = 21,
  kDhEcp192 = 25,
  kDhEcp224 = 26,
  kDhBp224 = 27,
  kDhBp256 = 28,
  kDhBp384 = 29,
  kDhBp512 = 30,
  kDhCurve25519 = 31,
  kDhSntrup761x25519 = 1035,
};

constexpr std::array kInteg = {
    TransformName{"hmac-md5", kIntegMd5, 16},
    TransformName{"hmac-sha1", kIntegSha1, 20},
    TransformName{"hmac-sha2-256", kIntegSha256, 32},
    TransformName{"hmac-sha2-384", kIntegSha384, 48},
    TransformName{"hmac-sha2-512", kIntegSha512, 64},
};

constexpr std::array kPrf = {
    TransformName{"hmac-md5", kPrfMd5, 16},
    TransformName{"hmac-sha1", kPrfSha1, 20},
    TransformName{"hmac-sha2-256", kPrfSha256, 32},
    TransformName{"hmac-sha2-384", kPrfSha384, 48},
    TransformName{"hmac-sha2-512", kPrfSha512, 64},
};

constexpr std::array kIkeEncr = {
    TransformName{"3des", kEncr3des, 24},
    TransformName{"3des-cbc", kEncr3des, 24},
    TransformName{"aes-128", kEncrAesCbc, 16, 16},
    TransformName{"aes-192", kEncrAesCbc, 24, 24},
    TransformName{"aes-256", kEncrAesCbc, 32, 32},
    TransformName{"aes-128-gcm", kEncrAesGcm16, 16, 16, 4, true},
    TransformName{"aes-256-gcm", kEncrAesGcm16, 32, 32, 4, true},
    TransformName{"aes-128-gcm-12", kEncrAesGcm12, 16, 16, 4, true},
    TransformName{"aes-256-gcm-12", kEncrAesGcm12, 32, 32, 4, true},
};

constexpr std::array kEspEncr = {
    TransformName{"3des", kEncr3des, 24},
    TransformName{"3des-cbc", kEncr3des, 24},
    TransformName{"aes-128", kEncrAesCbc, 16, 16},
    TransformName{"aes-192", kEncrAesCbc, 24, 24},
    TransformName{"aes-256", kEncrAesCbc, 32, 32},
    TransformName{"aes-128-ctr", kEncrAesCtr, 16, 16, 4},
    TransformName{"aes-192-ctr", kEncrAesCtr, 24, 24, 4},
    TransformName{"aes-256-ctr", kEncrAesCtr, 32, 32, 4},
    TransformName{"aes-128-gcm", kEncrAesGcm16, 16, 16, 4, true},
    TransformName{"aes-192-gcm", kEncrAesGcm16, 24, 24, 4, true},
    TransformName{"aes-256-gcm", kEncrAesGcm16, 32, 32, 4, true},
    TransformName{"aes-128-gmac", kEncrNullAesGmac, 16, 16, 4, true},
    TransformName{"aes-192-gmac", kEncrNullAesGmac, 24, 24, 4, true},
    TransformName{"aes-256-gmac", kEncrNullAesGmac, 32, 32, 4, true},
    TransformName{"blowfish", kEncrBlowfish, 20, 20},
    TransformName{"cast", kEncrCast, 16, 16},
    TransformName{"chacha20-poly1305", kEncrChacha20Poly1305, 32, 32, 4, true},
    TransformName{"null", kEncrNull, 0, 0},
};

constexpr std::array kDh = {
    TransformName{"none", kDhNone},
    TransformName{"modp768", kDhModp768},
    TransformName{"grp1", kDhModp768},
    TransformName{"modp1024", kDhModp1024},
    TransformName{"grp2", kDhModp1024},
    TransformName{"modp1536", kDhModp1536},
    TransformName{"grp5", kDhModp1536},
    TransformName{"modp2048", kDhModp2048},
    TransformName{"grp14", kDhModp2048},
    TransformName{"modp3072", kDhModp3072},
    TransformName{"grp15", kDhModp3072},
    TransformName{"modp4096", kDhModp4096},
    TransformName{"grp16", kDhModp4096},
    TransformName{"modp6144", kDhModp6144},
    TransformName{"grp17", kDhModp6144},
    TransformName{"modp8192", kDhModp8192},
    TransformName{"grp18", kDhModp8192},
    TransformName{"ecp256", kDhEcp256},
    TransformName{"grp19", kDhEcp256},
    TransformName{"ecp384", kDhEcp384},
    TransformName{"grp20", kDhEcp384},
    TransformName{"ecp521", kDhEcp521},
    TransformName{"grp21", kDhEcp521},
    TransformName{"ecp192", kDhEcp192},
    TransformName{"grp25", kDhEcp192},
    TransformName{"ecp224", kDhEcp224},
    TransformName{"grp26", kDhEcp224},
    TransformName{"brainpool224", kDhBp224},
    TransformName{"grp27", kDhBp224},
    TransformName{"brainpool256", kDhBp256},
    TransformName{"grp28", kDhBp256},
    TransformName{"brainpool384", kDhBp384},
    TransformName{"grp29", kDhBp384},
    TransformName{"brainpool512", kDhBp512},
    TransformName{"grp30", kDhBp512},
    TransformName{"curve25519", kDhCurve25519},
    TransformName{"grp31", kDhCurve25519},
    TransformName{"sntrup761x25519", kDhSntrup761x25519},
};

constexpr std::array kEsn = {
    TransformName{"esn", 1},
    TransformName{"noesn", kEsnNone},
};

constexpr std::array kAuthMethods = {
    TransformName{"none", static_cast<std::uint16_t>(AuthMethod::None)},
    TransformName{"rsa", static_cast<std::uint16_t>(AuthMethod::Rsa)},
    TransformName{"ecdsa256", static_cast<std::uint16_t>(AuthMethod::Ecdsa256)},
    TransformName{"ecdsa384", static_cast<std::uint16_t>(AuthMethod::Ecdsa384)},
    TransformName{"ecdsa521", static_cast<std::uint16_t>(AuthMethod::Ecdsa521)},
    TransformName{"rfc7427", static_cast<std::uint16_t>(AuthMethod::Signature)},
    TransformName{"signature", static_cast<std::uint16_t>(AuthMethod::SignatureAny)},
};

constexpr std::array kSaProtos = {
    TransformName{"esp", 3},
    TransformName{"ah", 2},
};

constexpr std::uint8_t kInet = AF_INET;
constexpr std::uint8_t kInet6 = AF_INET6;
constexpr std::array kConfig = {
    TransformName{"address", kCfgIp4Address, kInet},
    TransformName{"netmask", kCfgIp4Netmask, kInet},
    TransformName{"name-server", kCfgIp4Dns, kInet},
    TransformName{"netbios-server", kCfgIp4Nbns, kInet},
    TransformName{"dhcp-server", kCfgIp4Dhcp, kInet},
    TransformName{"address", kCfgIp6Address, kInet6},
    TransformName{"name-server", kCfgIp6Dns, kInet6},
    TransformName{"netbios-server", kCfgIp6Nbns, kInet6},
    TransformName{"dhcp-server", kCfgIp6Dhcp, kInet6},
    TransformName{"protected-subnet", kCfgIp4Subnet, kInet},
    TransformName{"protected-subnet", kCfgIp6Subnet, kInet6},
    TransformName{"access-server", kCfgIp4Server, kInet},
    TransformName{"access-server", kCfgIp6Server, kInet6},
};

constexpr Transform t(TransformType type, std::uint16_t id, std::uint16_t length_bits = 0) {
  return Transform{type, id, 0, length_bits};
}
using T = TransformType;

constexpr std::array kDefaultIke = {
    t(T::Encr, kEncrAesCbc, 256), t(T::Encr, kEncrAesCbc, 192), t(T::Encr, kEncrAesCbc, 128),
    t(T::Encr, kEncr3des),        t(T::Prf, kPrfSha256),        t(T::Prf, kPrfSha384),
    t(T::Prf, kPrfSha512),        t(T::Prf, kPrfSha1),          t(T::Integ, kIntegSha256),
    t(T::Integ, kIntegSha384),    t(T::Integ, kIntegSha512),    t(T::Integ, kIntegSha1),
    t(T::Dh, kDhCurve25519),      t(T::Dh, kDhEcp521),          t(T::Dh, kDhEcp384),
    t(T::Dh, kDhEcp256),          t(T::Dh, kDhModp4096),        t(T::Dh, kDhModp3072),
    t(T::Dh, kDhModp2048),        t(T::Dh, kDhModp1536),        t(T::Dh, kDhModp1024),
};

constexpr std::array kDefaultIkeAead = {
    t(T::Encr, kEncrAesGcm16, 128), t(T::Encr, kEncrAesGcm16, 256), t(T::Prf, kPrfSha256),
    t(T::Prf, kPrfSha384),          t(T::Prf, kPrfSha512),          t(T::Prf, kPrfSha1),
    t(T::Dh, kDhCurve25519),        t(T::Dh, kDhEcp521),            t(T::Dh, kDhEcp384),
    t(T::Dh, kDhEcp256),            t(T::Dh, kDhModp4096),          t(T::Dh, kDhModp3072),
    t(T::Dh, kDhModp2048),          t(T::Dh, kDhModp1536),          t(T::Dh, kDhModp1024),
};

constexpr std::array kDefaultEsp = {
    t(T::Encr, kEncrAesCbc, 256), t(T::Encr, kEncrAesCbc, 192), t(T::Encr, kEncrAesCbc, 128),
    t(T::Integ, kIntegSha384),    t(T::Integ, kIntegSha512),    t(T::Integ, kIntegSha1),
    t(T::Dh, kDhNone),            t(T::Esn, kEsnNone),
};

}  // namespace

std::span<const TransformName> table(NameTable which) {
  switch (which) {
    case NameTable::Integ: return kInteg;
    case NameTable::Prf: return kPrf;
    case NameTable::IkeEncr: return kIkeEncr;
    case NameTable::EspEncr: return kEspEncr;
    case NameTable::Dh: return kDh;
    case NameTable::Esn: return kEsn;
    case NameTable::AuthMethod: return kAuthMethods;
    case NameTable::SaProto: return kSaProtos;
    case NameTable::Config: return kConfig;
  }
  return {};
}

const TransformName* find_name(NameTable which, std::string_view word, unsigned length) {
  for (const TransformName& entry : table(which)) {
    // strncmp(word, name, strlen(word)): the word must begin the name.
    if (!entry.name.starts_with(word)) continue;
    if (length == 0 || length == entry.length) return &entry;
  }
  return nullptr;
}

std::string_view name_of(NameTable which, unsigned id, unsigned length) {
  for (const TransformName& entry : table(which))
    if (entry.id == id && (length == 0 || length == entry.length)) return entry.name;
  return "unknown";
}

NameTable table_for(TransformType type, bool ike) {
  switch (type) {
    case TransformType::Encr: return ike ? NameTable::IkeEncr : NameTable::EspEncr;
    case TransformType::Prf: return NameTable::Prf;
    case TransformType::Integ: return NameTable::Integ;
    case TransformType::Dh: return NameTable::Dh;
    case TransformType::Esn: return NameTable::Esn;
  }
  return NameTable::Integ;
}

std::span<const Transform> default_ike_transforms() { return kDefaultIke; }
std::span<const Transform> default_ike_aead_transforms() { return kDefaultIkeAead; }
std::span<const Transform> default_esp_transforms() { return kDefaultEsp; }

}  // namespace ipsecctl::iked
