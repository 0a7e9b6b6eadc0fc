#include "compiler/transforms.h"

#include <array>

namespace ipsecctl::compiler {

namespace {

constexpr std::array kAuth{
    AuthTransform{"unknown", AuthAlg::Unknown, 0, "", "", ""},
    AuthTransform{"none", AuthAlg::None, 0, "", "", ""},
    AuthTransform{"hmac-md5", AuthAlg::HmacMd5, 16, "MD5", "MD5", "md5"},
    AuthTransform{"hmac-ripemd160", AuthAlg::HmacRipemd160, 20, "", "RIPEMD", ""},
    AuthTransform{"hmac-sha1", AuthAlg::HmacSha1, 20, "SHA", "SHA", "sha1"},
    AuthTransform{"hmac-sha2-256", AuthAlg::HmacSha2_256, 32, "SHA2_256", "SHA2_256", "sha256"},
    AuthTransform{"hmac-sha2-384", AuthAlg::HmacSha2_384, 48, "SHA2_384", "SHA2_384", "sha384"},
    AuthTransform{"hmac-sha2-512", AuthAlg::HmacSha2_512, 64, "SHA2_512", "SHA2_512", "sha512"},
};

constexpr std::array kEnc{
    EncTransform{"unknown", EncAlg::Unknown, 0, 0, false, false, "", "", false, ""},
    EncTransform{"none", EncAlg::None, 0, 0, false, false, "", "", false, ""},
    EncTransform{"3des-cbc", EncAlg::TripleDesCbc, 24, 24, false, false, "3DES", "", true, "3des"},
    EncTransform{"aes", EncAlg::Aes, 16, 32, false, false, "AES", "128,128:256", true, "aes128"},
    EncTransform{"aes-128", EncAlg::Aes128, 16, 16, false, false, "AES", "128,128:128", true,
                 "aes128"},
    EncTransform{"aes-192", EncAlg::Aes192, 24, 24, false, false, "AES", "192,192:192", true,
                 "aes192"},
    EncTransform{"aes-256", EncAlg::Aes256, 32, 32, false, false, "AES", "256,256:256", true,
                 "aes256"},
    EncTransform{"aesctr", EncAlg::AesCtr, 16 + 4, 32 + 4, false, true, "AES_CTR", "128,128:128",
                 false, "aes128ctr"},
    EncTransform{"aes-128-ctr", EncAlg::Aes128Ctr, 16 + 4, 16 + 4, false, true, "AES_CTR",
                 "128,128:128", false, "aes128ctr"},
    EncTransform{"aes-192-ctr", EncAlg::Aes192Ctr, 24 + 4, 24 + 4, false, true, "AES_CTR",
                 "192,192:192", false, "aes192ctr"},
    EncTransform{"aes-256-ctr", EncAlg::Aes256Ctr, 32 + 4, 32 + 4, false, true, "AES_CTR",
                 "256,256:256", false, "aes256ctr"},
    EncTransform{"aes-128-gcm", EncAlg::Aes128Gcm, 16 + 4, 16 + 4, true, true, "AES_GCM_16",
                 "128,128:128", false, "aes128gcm16"},
    EncTransform{"aes-192-gcm", EncAlg::Aes192Gcm, 24 + 4, 24 + 4, true, true, "AES_GCM_16",
                 "192,192:192", false, "aes192gcm16"},
    EncTransform{"aes-256-gcm", EncAlg::Aes256Gcm, 32 + 4, 32 + 4, true, true, "AES_GCM_16",
                 "256,256:256", false, "aes256gcm16"},
    EncTransform{"aes-128-gmac", EncAlg::Aes128Gmac, 16 + 4, 16 + 4, true, true, "AES_GMAC",
                 "128,128:128", false, "aes128gmac"},
    EncTransform{"aes-192-gmac", EncAlg::Aes192Gmac, 24 + 4, 24 + 4, true, true, "AES_GMAC",
                 "192,192:192", false, "aes192gmac"},
    EncTransform{"aes-256-gmac", EncAlg::Aes256Gmac, 32 + 4, 32 + 4, true, true, "AES_GMAC",
                 "256,256:256", false, "aes256gmac"},
    EncTransform{"blowfish", EncAlg::Blowfish, 5, 56, false, false, "BLOWFISH", "128,96:192", true,
                 "blowfish128"},
    EncTransform{"cast128", EncAlg::Cast128, 5, 16, false, false, "CAST", "", true, "cast128"},
    // OpenBSD's ike generator has no name for it: refused there (and in
    // IKEv1 rules); IKEv2 rules have it.
    EncTransform{"chacha20-poly1305", EncAlg::Chacha20Poly1305, 32 + 4, 32 + 4, true, true, "", "",
                 false, "chacha20poly1305"},
    EncTransform{"null", EncAlg::Null, 0, 0, false, false, "NULL", "", false, "null"},
};

constexpr std::array kComp{
    CompTransform{"unknown", CompAlg::Unknown},
    CompTransform{"deflate", CompAlg::Deflate},
};

constexpr std::array kGroup{
    GroupTransform{"unknown", GroupId::Unknown, "", ""},
    GroupTransform{"none", GroupId::None, "", ""},
    GroupTransform{"modp768", GroupId::Modp768, "MODP_768", "modp768"},
    GroupTransform{"grp1", GroupId::Modp768, "MODP_768", "modp768"},
    GroupTransform{"modp1024", GroupId::Modp1024, "MODP_1024", "modp1024"},
    GroupTransform{"grp2", GroupId::Modp1024, "MODP_1024", "modp1024"},
    GroupTransform{"modp1536", GroupId::Modp1536, "MODP_1536", "modp1536"},
    GroupTransform{"grp5", GroupId::Modp1536, "MODP_1536", "modp1536"},
    GroupTransform{"modp2048", GroupId::Modp2048, "MODP_2048", "modp2048"},
    GroupTransform{"grp14", GroupId::Modp2048, "MODP_2048", "modp2048"},
    GroupTransform{"modp3072", GroupId::Modp3072, "MODP_3072", "modp3072"},
    GroupTransform{"grp15", GroupId::Modp3072, "MODP_3072", "modp3072"},
    GroupTransform{"modp4096", GroupId::Modp4096, "MODP_4096", "modp4096"},
    GroupTransform{"grp16", GroupId::Modp4096, "MODP_4096", "modp4096"},
    GroupTransform{"modp6144", GroupId::Modp6144, "MODP_6144", "modp6144"},
    GroupTransform{"grp17", GroupId::Modp6144, "MODP_6144", "modp6144"},
    GroupTransform{"modp8192", GroupId::Modp8192, "MODP_8192", "modp8192"},
    GroupTransform{"grp18", GroupId::Modp8192, "MODP_8192", "modp8192"},
    GroupTransform{"ecp256", GroupId::Ecp256, "ECP_256", "ecp256"},
    GroupTransform{"grp19", GroupId::Ecp256, "ECP_256", "ecp256"},
    GroupTransform{"ecp384", GroupId::Ecp384, "ECP_384", "ecp384"},
    GroupTransform{"grp20", GroupId::Ecp384, "ECP_384", "ecp384"},
    GroupTransform{"ecp521", GroupId::Ecp521, "ECP_521", "ecp521"},
    GroupTransform{"grp21", GroupId::Ecp521, "ECP_521", "ecp521"},
    GroupTransform{"ecp224", GroupId::Ecp224, "ECP_224", "ecp224"},
    GroupTransform{"grp26", GroupId::Ecp224, "ECP_224", "ecp224"},
    GroupTransform{"bp224", GroupId::Bp224, "BP_224", "ecp224bp"},
    GroupTransform{"grp27", GroupId::Bp224, "BP_224", "ecp224bp"},
    GroupTransform{"bp256", GroupId::Bp256, "BP_256", "ecp256bp"},
    GroupTransform{"grp28", GroupId::Bp256, "BP_256", "ecp256bp"},
    GroupTransform{"bp384", GroupId::Bp384, "BP_384", "ecp384bp"},
    GroupTransform{"grp29", GroupId::Bp384, "BP_384", "ecp384bp"},
    GroupTransform{"bp512", GroupId::Bp512, "BP_512", "ecp512bp"},
    GroupTransform{"grp30", GroupId::Bp512, "BP_512", "ecp512bp"},
};

template <typename Table>
auto find_by_prefix(const Table& table, std::string_view name) -> decltype(&table[0]) {
  for (const auto& entry : table)
    if (entry.name.substr(0, name.size()) == name) return &entry;
  return nullptr;
}

template <typename Table, typename Id>
const auto& find_by_id(const Table& table, Id id) {
  for (const auto& entry : table)
    if (entry.id == id) return entry;
  return table[0];
}

}  // namespace

const AuthTransform* find_auth(std::string_view name) { return find_by_prefix(kAuth, name); }
const EncTransform* find_enc(std::string_view name) { return find_by_prefix(kEnc, name); }
const CompTransform* find_comp(std::string_view name) { return find_by_prefix(kComp, name); }
const GroupTransform* find_group(std::string_view name) { return find_by_prefix(kGroup, name); }

const AuthTransform& auth_transform(AuthAlg id) { return find_by_id(kAuth, id); }
const GroupTransform& group_transform(GroupId id) { return find_by_id(kGroup, id); }
const EncTransform& enc_transform(EncAlg id) { return find_by_id(kEnc, id); }
const CompTransform& comp_transform(CompAlg id) { return find_by_id(kComp, id); }

}  // namespace ipsecctl::compiler

namespace ipsecctl::compiler {

std::vector<std::string> transform_names(char table) {
  std::vector<std::string> names;
  auto add = [&names](const auto& t) {
    for (const auto& e : t)
      if (e.name != "unknown") names.emplace_back(e.name);
  };
  switch (table) {
    case 'a': add(kAuth); break;
    case 'e': add(kEnc); break;
    case 'c': add(kComp); break;
    default: add(kGroup); break;
  }
  return names;
}

}  // namespace ipsecctl::compiler
