// The transform tables of ipsec.conf(5): names, key sizes and flags.
//
// Names are matched by prefix: the first entry that starts with what the
// user wrote wins ("3des" is 3des-cbc, "grp" is grp1), so the order of the
// entries is part of the language.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ipsecctl::compiler {

enum class AuthAlg { Unknown, None, HmacMd5, HmacRipemd160, HmacSha1, HmacSha2_256,
                     HmacSha2_384, HmacSha2_512 };
enum class EncAlg { Unknown, None, TripleDesCbc, Aes, Aes128, Aes192, Aes256, AesCtr,
                    Aes128Ctr, Aes192Ctr, Aes256Ctr, Aes128Gcm, Aes192Gcm, Aes256Gcm,
                    Aes128Gmac, Aes192Gmac, Aes256Gmac, Blowfish, Cast128,
                    Chacha20Poly1305, Null };
enum class CompAlg { Unknown, Deflate };
enum class GroupId { Unknown, None, Modp768, Modp1024, Modp1536, Modp2048, Modp3072,
                     Modp4096, Modp6144, Modp8192, Ecp256, Ecp384, Ecp521, Ecp224, Bp224,
                     Bp256, Bp384, Bp512 };

// Each row also carries what the IKE daemons call the algorithm, so that a
// backend reads its column instead of keeping a table of its own. An empty
// name means "not offered there" (OpenBSD's ike generator refuses it).
struct AuthTransform {
  std::string_view name;
  AuthAlg id;
  std::size_t key_bytes;          // exact key length for manual SAs
  std::string_view isakmpd_hash;  // phase 1 HASH_ALGORITHM ("" : refused)
  std::string_view isakmpd_auth;  // phase 2 AUTHENTICATION_ALGORITHM without HMAC_
  std::string_view strongswan;    // integrity keyword
};

struct EncTransform {
  std::string_view name;
  EncAlg id;
  std::size_t key_min;  // bytes, including the 4-byte nonce of CTR/GCM/GMAC
  std::size_t key_max;
  bool noauth;     // the cipher authenticates by itself
  bool nostatic;   // refused for manually keyed SAs
  std::string_view isakmpd_name;        // ENCRYPTION_ALGORITHM / TRANSFORM_ID
  std::string_view isakmpd_key_length;  // KEY_LENGTH ("" : none)
  bool phase1;                          // OpenBSD offers it in phase 1 too
  std::string_view strongswan;          // encryption keyword
};

struct CompTransform {
  std::string_view name;
  CompAlg id;
};

struct GroupTransform {
  std::string_view name;
  GroupId id;
  std::string_view isakmpd_name;  // GROUP_DESCRIPTION value ("" : none/refused)
  std::string_view strongswan;    // DH group keyword
};

const AuthTransform* find_auth(std::string_view name);
const EncTransform* find_enc(std::string_view name);
const CompTransform* find_comp(std::string_view name);
const GroupTransform* find_group(std::string_view name);

const AuthTransform& auth_transform(AuthAlg id);
const EncTransform& enc_transform(EncAlg id);
const CompTransform& comp_transform(CompAlg id);
const GroupTransform& group_transform(GroupId id);

// The choices written in one rule part (manual SA, main mode, quick mode).
struct TransformSet {
  const AuthTransform* auth = nullptr;
  const EncTransform* enc = nullptr;
  const CompTransform* comp = nullptr;
  const GroupTransform* group = nullptr;
};

}  // namespace ipsecctl::compiler

namespace ipsecctl::compiler {
// The names of one table (auth, enc, comp or group), for "did you mean".
std::vector<std::string> transform_names(char table);
}  // namespace ipsecctl::compiler
