#include "compiler/transforms.h"

#include <array>

namespace ipsecctl::compiler {

namespace {

constexpr std::array kAuth{
    AuthTransform{"unknown", AuthAlg::Unknown, 0},
    AuthTransform{"none", AuthAlg::None, 0},
    AuthTransform{"hmac-md5", AuthAlg::HmacMd5, 16},
    AuthTransform{"hmac-ripemd160", AuthAlg::HmacRipemd160, 20},
    AuthTransform{"hmac-sha1", AuthAlg::HmacSha1, 20},
    AuthTransform{"hmac-sha2-256", AuthAlg::HmacSha2_256, 32},
    AuthTransform{"hmac-sha2-384", AuthAlg::HmacSha2_384, 48},
    AuthTransform{"hmac-sha2-512", AuthAlg::HmacSha2_512, 64},
};

constexpr std::array kEnc{
    EncTransform{"unknown", EncAlg::Unknown, 0, 0, false, false},
    EncTransform{"none", EncAlg::None, 0, 0, false, false},
    EncTransform{"3des-cbc", EncAlg::TripleDesCbc, 24, 24, false, false},
    EncTransform{"aes", EncAlg::Aes, 16, 32, false, false},
    EncTransform{"aes-128", EncAlg::Aes128, 16, 16, false, false},
    EncTransform{"aes-192", EncAlg::Aes192, 24, 24, false, false},
    EncTransform{"aes-256", EncAlg::Aes256, 32, 32, false, false},
    EncTransform{"aesctr", EncAlg::AesCtr, 16 + 4, 32 + 4, false, true},
    EncTransform{"aes-128-ctr", EncAlg::Aes128Ctr, 16 + 4, 16 + 4, false, true},
    EncTransform{"aes-192-ctr", EncAlg::Aes192Ctr, 24 + 4, 24 + 4, false, true},
    EncTransform{"aes-256-ctr", EncAlg::Aes256Ctr, 32 + 4, 32 + 4, false, true},
    EncTransform{"aes-128-gcm", EncAlg::Aes128Gcm, 16 + 4, 16 + 4, true, true},
    EncTransform{"aes-192-gcm", EncAlg::Aes192Gcm, 24 + 4, 24 + 4, true, true},
    EncTransform{"aes-256-gcm", EncAlg::Aes256Gcm, 32 + 4, 32 + 4, true, true},
    EncTransform{"aes-128-gmac", EncAlg::Aes128Gmac, 16 + 4, 16 + 4, true, true},
    EncTransform{"aes-192-gmac", EncAlg::Aes192Gmac, 24 + 4, 24 + 4, true, true},
    EncTransform{"aes-256-gmac", EncAlg::Aes256Gmac, 32 + 4, 32 + 4, true, true},
    EncTransform{"blowfish", EncAlg::Blowfish, 5, 56, false, false},
    EncTransform{"cast128", EncAlg::Cast128, 5, 16, false, false},
    EncTransform{"chacha20-poly1305", EncAlg::Chacha20Poly1305, 32 + 4, 32 + 4, true, true},
    EncTransform{"null", EncAlg::Null, 0, 0, false, false},
};

constexpr std::array kComp{
    CompTransform{"unknown", CompAlg::Unknown},
    CompTransform{"deflate", CompAlg::Deflate},
};

constexpr std::array kGroup{
    GroupTransform{"unknown", GroupId::Unknown, ""},
    GroupTransform{"none", GroupId::None, ""},
    GroupTransform{"modp768", GroupId::Modp768, "MODP_768"},
    GroupTransform{"grp1", GroupId::Modp768, "MODP_768"},
    GroupTransform{"modp1024", GroupId::Modp1024, "MODP_1024"},
    GroupTransform{"grp2", GroupId::Modp1024, "MODP_1024"},
    GroupTransform{"modp1536", GroupId::Modp1536, "MODP_1536"},
    GroupTransform{"grp5", GroupId::Modp1536, "MODP_1536"},
    GroupTransform{"modp2048", GroupId::Modp2048, "MODP_2048"},
    GroupTransform{"grp14", GroupId::Modp2048, "MODP_2048"},
    GroupTransform{"modp3072", GroupId::Modp3072, "MODP_3072"},
    GroupTransform{"grp15", GroupId::Modp3072, "MODP_3072"},
    GroupTransform{"modp4096", GroupId::Modp4096, "MODP_4096"},
    GroupTransform{"grp16", GroupId::Modp4096, "MODP_4096"},
    GroupTransform{"modp6144", GroupId::Modp6144, "MODP_6144"},
    GroupTransform{"grp17", GroupId::Modp6144, "MODP_6144"},
    GroupTransform{"modp8192", GroupId::Modp8192, "MODP_8192"},
    GroupTransform{"grp18", GroupId::Modp8192, "MODP_8192"},
    GroupTransform{"ecp256", GroupId::Ecp256, "ECP_256"},
    GroupTransform{"grp19", GroupId::Ecp256, "ECP_256"},
    GroupTransform{"ecp384", GroupId::Ecp384, "ECP_384"},
    GroupTransform{"grp20", GroupId::Ecp384, "ECP_384"},
    GroupTransform{"ecp521", GroupId::Ecp521, "ECP_521"},
    GroupTransform{"grp21", GroupId::Ecp521, "ECP_521"},
    GroupTransform{"ecp224", GroupId::Ecp224, "ECP_224"},
    GroupTransform{"grp26", GroupId::Ecp224, "ECP_224"},
    GroupTransform{"bp224", GroupId::Bp224, "BP_224"},
    GroupTransform{"grp27", GroupId::Bp224, "BP_224"},
    GroupTransform{"bp256", GroupId::Bp256, "BP_256"},
    GroupTransform{"grp28", GroupId::Bp256, "BP_256"},
    GroupTransform{"bp384", GroupId::Bp384, "BP_384"},
    GroupTransform{"grp29", GroupId::Bp384, "BP_384"},
    GroupTransform{"bp512", GroupId::Bp512, "BP_512"},
    GroupTransform{"grp30", GroupId::Bp512, "BP_512"},
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
const EncTransform& enc_transform(EncAlg id) { return find_by_id(kEnc, id); }
const CompTransform& comp_transform(CompAlg id) { return find_by_id(kComp, id); }

}  // namespace ipsecctl::compiler
