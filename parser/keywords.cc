#include "parser/keywords.h"

#include <cstdint>
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
  // Every word of a configuration passes through here: the keywords of
  // each length and first letter are at most three (file, flow, from), so
  // a lookup compares a few words of the right length at most.
  constexpr std::size_t kLongest = 10;
  struct Candidates {
    std::array<std::uint8_t, 3> index{};
    std::uint8_t count = 0;
  };
  static const auto by_length_and_letter = [] {
    std::array<std::array<Candidates, 26>, kLongest + 1> table{};
    for (std::size_t i = 0; i < kKeywords.size(); ++i) {
      const std::string_view k = kKeywords[i].first;
      Candidates& c = table[k.size()][static_cast<std::size_t>(k[0] - 'a')];
      c.index[c.count++] = static_cast<std::uint8_t>(i);
    }
    return table;
  }();
  if (word.size() > kLongest || word.empty() || word[0] < 'a' || word[0] > 'z')
    return std::nullopt;
  const Candidates& c = by_length_and_letter[word.size()][static_cast<std::size_t>(word[0] - 'a')];
  for (std::uint8_t n = 0; n < c.count; ++n)
    if (kKeywords[c.index[n]].first == word) return kKeywords[c.index[n]].second;
  return std::nullopt;
}

}  // namespace ipsecctl::parser

namespace ipsecctl::parser {

std::vector<std::pair<std::string_view, Parser::token_kind_type>> all_keywords() {
  return {kKeywords.begin(), kKeywords.end()};
}

}  // namespace ipsecctl::parser
