#include "parser/keywords.h"

#include <algorithm>
#include <array>
#include <utility>

namespace ipsecctl::parser {

namespace {
using T = Parser::token;
// Sorted for binary search.
constexpr std::array<std::pair<std::string_view, Parser::token_kind_type>, 49> kKeywords{{
    {"acquire", T::TOK_ACQUIRE},     {"active", T::TOK_ACTIVE},
    {"aggressive", T::TOK_AGGRESSIVE}, {"ah", T::TOK_AH},
    {"any", T::TOK_ANY},             {"auth", T::TOK_AUTHXF},
    {"authkey", T::TOK_AUTHKEY},     {"bundle", T::TOK_BUNDLE},
    {"bypass", T::TOK_BYPASS},       {"comp", T::TOK_COMPXF},
    {"deny", T::TOK_DENY},           {"dontacq", T::TOK_DONTACQ},
    {"dstid", T::TOK_DSTID},         {"dynamic", T::TOK_DYNAMIC},
    {"enc", T::TOK_ENCXF},           {"enckey", T::TOK_ENCKEY},
    {"esp", T::TOK_ESP},             {"file", T::TOK_FILENAME},
    {"flow", T::TOK_FLOW},           {"from", T::TOK_FROM},
    {"group", T::TOK_GROUP},         {"ike", T::TOK_IKE},
    {"in", T::TOK_IN},               {"include", T::TOK_INCLUDE},
    {"interface", T::TOK_INTERFACE}, {"ipcomp", T::TOK_IPCOMP},
    {"ipip", T::TOK_IPIP},           {"lifetime", T::TOK_LIFETIME},
    {"local", T::TOK_LOCAL},         {"main", T::TOK_MAIN},
    {"out", T::TOK_OUT},             {"passive", T::TOK_PASSIVE},
    {"peer", T::TOK_PEER},           {"port", T::TOK_PORT},
    {"proto", T::TOK_PROTO},         {"psk", T::TOK_PSK},
    {"quick", T::TOK_QUICK},         {"require", T::TOK_REQUIRE},
    {"rsa", T::TOK_RSA},             {"spi", T::TOK_SPI},
    {"srcid", T::TOK_SRCID},         {"tag", T::TOK_TAG},
    {"tcpmd5", T::TOK_TCPMD5},       {"to", T::TOK_TO},
    {"transport", T::TOK_TRANSPORT}, {"tunnel", T::TOK_TUNNEL},
    {"type", T::TOK_TYPE},           {"udpencap", T::TOK_UDPENCAP},
    {"use", T::TOK_USE},
}};
}  // namespace

std::optional<Parser::token_kind_type> lookup_keyword(std::string_view word) {
  auto last = kKeywords.end();
  auto it = std::lower_bound(kKeywords.begin(), last, word,
                             [](const auto& entry, std::string_view w) { return entry.first < w; });
  if (it != last && it->first == word) return it->second;
  return std::nullopt;
}

}  // namespace ipsecctl::parser
