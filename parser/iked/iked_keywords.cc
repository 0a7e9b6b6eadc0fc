#include "parser/iked/iked_keywords.h"

#include <vector>
#include <iterator>
#include <utility>

namespace ipsecctl::iked {
namespace {

using T = Parser::token;
// The keywords, as iked lists them.
constexpr std::pair<std::string_view, Parser::token_kind_type> kKeywords[] = {
    {"active", T::TOK_ACTIVE},
    {"ah", T::TOK_AH},
    {"any", T::TOK_ANY},
    {"auth", T::TOK_AUTHXF},
    {"bytes", T::TOK_BYTES},
    {"cert_partial_chain", T::TOK_CERTPARTIALCHAIN},
    {"childsa", T::TOK_CHILDSA},
    {"config", T::TOK_CONFIG},
    {"couple", T::TOK_COUPLE},
    {"decouple", T::TOK_DECOUPLE},
    {"default", T::TOK_DEFAULT},
    {"dpd_check_interval", T::TOK_DPD_CHECK_INTERVAL},
    {"dstid", T::TOK_DSTID},
    {"dynamic", T::TOK_DYNAMIC},
    {"eap", T::TOK_EAP},
    {"enc", T::TOK_ENCXF},
    {"enforcesingleikesa", T::TOK_ENFORCESINGLEIKESA},
    {"esn", T::TOK_ESN},
    {"esp", T::TOK_ESP},
    {"file", T::TOK_FILENAME},
    {"flow", T::TOK_FLOW},
    {"fragmentation", T::TOK_FRAGMENTATION},
    {"from", T::TOK_FROM},
    {"group", T::TOK_GROUP},
    {"iface", T::TOK_IFACE},
    {"ike", T::TOK_IKEV1},
    {"ikelifetime", T::TOK_IKELIFETIME},
    {"ikesa", T::TOK_IKESA},
    {"ikev2", T::TOK_IKEV2},
    {"include", T::TOK_INCLUDE},
    {"inet", T::TOK_INET},
    {"inet6", T::TOK_INET6},
    {"ipcomp", T::TOK_IPCOMP},
    {"lifetime", T::TOK_LIFETIME},
    {"local", T::TOK_LOCAL},
    {"maxage", T::TOK_MAXAGE},
    {"mobike", T::TOK_MOBIKE},
    {"name", T::TOK_NAME},
    {"noenforcesingleikesa", T::TOK_NOENFORCESINGLEIKESA},
    {"noesn", T::TOK_NOESN},
    {"nofragmentation", T::TOK_NOFRAGMENTATION},
    {"nomobike", T::TOK_NOMOBIKE},
    {"nostickyaddress", T::TOK_NOSTICKYADDRESS},
    {"novendorid", T::TOK_NOVENDORID},
    {"ocsp", T::TOK_OCSP},
    {"passive", T::TOK_PASSIVE},
    {"peer", T::TOK_PEER},
    {"port", T::TOK_PORT},
    {"prf", T::TOK_PRFXF},
    {"proto", T::TOK_PROTO},
    {"psk", T::TOK_PSK},
    {"quick", T::TOK_QUICK},
    {"rdomain", T::TOK_RDOMAIN},
    {"request", T::TOK_REQUEST},
    {"sa", T::TOK_SA},
    {"set", T::TOK_SET},
    {"skip", T::TOK_SKIP},
    {"srcid", T::TOK_SRCID},
    {"stickyaddress", T::TOK_STICKYADDRESS},
    {"tag", T::TOK_TAG},
    {"tap", T::TOK_TAP},
    {"tcpmd5", T::TOK_TCPMD5},
    {"to", T::TOK_TO},
    {"tolerate", T::TOK_TOLERATE},
    {"transport", T::TOK_TRANSPORT},
    {"tunnel", T::TOK_TUNNEL},
    {"user", T::TOK_USER},
    {"vendorid", T::TOK_VENDORID},
};

// Every word of a file is looked up: the keywords are bucketed by length
// and first letter, so a word is compared with one or two at most.
class KeywordIndex {
 public:
  static constexpr std::size_t kMaxLength = 20;
  KeywordIndex() {
    for (std::size_t i = 0; i < std::size(kKeywords); ++i) {
      const std::string_view name = kKeywords[i].first;
      buckets_[name.size()][static_cast<unsigned char>(name[0]) - 'a'].push_back(i);
    }
  }
  std::optional<Parser::token_kind_type> find(std::string_view word) const {
    if (word.size() < 2 || word.size() > kMaxLength || word[0] < 'a' || word[0] > 'z')
      return std::nullopt;
    for (std::size_t i : buckets_[word.size()][static_cast<unsigned char>(word[0]) - 'a'])
      if (kKeywords[i].first == word) return kKeywords[i].second;
    return std::nullopt;
  }

 private:
  std::vector<std::size_t> buckets_[kMaxLength + 1][26];
};

}  // namespace

std::optional<Parser::token_kind_type> keyword_token(std::string_view word) {
  static const KeywordIndex kIndex;
  return kIndex.find(word);
}

}  // namespace ipsecctl::iked
