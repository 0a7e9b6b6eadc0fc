#include "parser/syntax_hints.h"

#include <algorithm>
#include <cerrno>
#include <map>

#include "common/spelling.h"
#include "parser/keywords.h"

namespace ipsecctl::parser::hints {

namespace {

using K = Parser::symbol_kind;
using Kind = Parser::symbol_kind_type;

const std::map<Kind, std::string>& keyword_names() {
  static const std::map<Kind, std::string> names = [] {
    std::map<Kind, std::string> m;
    for (const auto& [text, token] : all_keywords())
      m[Parser::symbol_type(token, SourceSpan{}).kind()] = std::string(text);
    return m;
  }();
  return names;
}

bool contains(const std::vector<Kind>& kinds, Kind k) {
  return std::find(kinds.begin(), kinds.end(), k) != kinds.end();
}

// Where in the statement a token kind first appears, or -1.
long position_of(const std::vector<Kind>& statement, Kind k) {
  auto it = std::find(statement.begin(), statement.end(), k);
  return it == statement.end() ? -1 : static_cast<long>(it - statement.begin());
}

std::string quoted_list(const std::vector<std::string>& words) {
  std::string s;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) s += i + 1 == words.size() ? " or " : ", ";
    s += "'" + words[i] + "'";
  }
  return s;
}

constexpr const char* kIkeOrder =
    "ike [mode] [esp|ah] [tunnel|transport] [proto P] from SRC to DST [peer P] [local L] "
    "[main ...] [quick ...] [srcid ID] [dstid ID] [psk \"secret\"] [tag T]";

}  // namespace

std::string keyword_text(Kind kind) {
  const auto& names = keyword_names();
  auto it = names.find(kind);
  return it == names.end() ? std::string() : it->second;
}

std::string for_syntax_error(Kind lookahead, const std::string& text,
                             const std::string& first_word, const std::vector<Kind>& statement,
                             const std::vector<Kind>& expected, const MacroTable& macros) {
  (void)macros;
  // The statement as the grammar saw it, without the offending token.
  std::vector<Kind> before(statement.begin(),
                           statement.empty() ? statement.end() : statement.end() - 1);
  const bool at_start = before.empty() || (before.size() == 1 && before[0] == K::S_NEWLINE);
  const bool in_ike = contains(before, K::S_IKE);
  const bool in_flow = contains(before, K::S_FLOW);

  if (lookahead == K::S_ERROR)
    return "the rest of the line was skipped after the error above";

  if (lookahead == K::S_STRING && at_start && (text == "conn" || text == "config" ||
                                               text == "ca" || text == "setup"))
    return "this looks like strongSwan's ipsec.conf (config setup, conn sections); ipsecctl "
           "reads OpenBSD's ipsec.conf(5): flow, ike and SA rules, one per line";

  // An order the grammar does not allow.
  if ((lookahead == K::S_PEER || lookahead == K::S_LOCAL) && in_ike &&
      (contains(before, K::S_MAIN) || contains(before, K::S_AGGRESSIVE) ||
       contains(before, K::S_QUICK) || contains(before, K::S_SRCID) ||
       contains(before, K::S_DSTID) || contains(before, K::S_PSK)))
    return "'peer' and 'local' come right after 'from ... to ...', before main, quick, "
           "srcid, dstid and psk: " + std::string(kIkeOrder);
  if (lookahead == K::S_LIFETIME)
    return "'lifetime' follows the transforms of 'main', 'aggressive' or 'quick', e.g. "
           "quick enc aes-256 auth hmac-sha2-256 lifetime 3600";
  if (in_ike && (lookahead == K::S_MAIN || lookahead == K::S_AGGRESSIVE ||
                 lookahead == K::S_QUICK) &&
      position_of(before, K::S_QUICK) >= 0)
    return "main (or aggressive) comes before quick, each once: " + std::string(kIkeOrder);
  if (in_ike && (lookahead == K::S_SRCID || lookahead == K::S_DSTID) &&
      contains(before, K::S_PSK))
    return "srcid and dstid come before psk: " + std::string(kIkeOrder);
  if (in_ike && lookahead == K::S_TYPE)
    return "'type' belongs to flow rules; an ike rule gets its flows from the IKE daemon";
  if (in_flow && (lookahead == K::S_MAIN || lookahead == K::S_QUICK || lookahead == K::S_PSK))
    return "'" + keyword_text(lookahead) + "' belongs to ike rules, not to flow rules";

  // A psk with spaces, written without quotes: the words after the first
  // are left over.
  if (lookahead == K::S_STRING && before.size() >= 2 && before.back() == K::S_STRING &&
      before[before.size() - 2] == K::S_PSK)
    return "a psk with spaces or special characters must be quoted: psk \"my secret\"";

  // A word that is not a keyword starts the line but no '=' follows.
  if (before.size() == 1 && before[0] == K::S_STRING && lookahead != K::S_EQUALS &&
      !first_word.empty()) {
    std::vector<std::string> starts = {"flow", "ike", "esp", "ah", "ipcomp", "ipip", "tcpmd5",
                                       "include"};
    if (auto guess = closest_word(first_word, starts))
      return "did you mean '" + *guess + "'? '" + first_word + "' is not a keyword";
    return "'" + first_word + "' is not a keyword: a line holds a rule (flow, ike, esp, ah, "
           "ipcomp, ipip, tcpmd5), an include, or a macro definition (" + first_word +
           " = value)";
  }
  // A manual SA: spi comes right after the addresses.
  const bool sa_statement =
      !before.empty() && !in_ike && !in_flow &&
      (before[0] == K::S_ESP || before[0] == K::S_AH || before[0] == K::S_IPCOMP ||
       before[0] == K::S_IPIP || before[0] == K::S_TCPMD5 || before[0] == K::S_FROM ||
       before[0] == K::S_TO || before[0] == K::S_TUNNEL || before[0] == K::S_TRANSPORT);
  if (sa_statement && !contains(before, K::S_SPI) &&
      (lookahead == K::S_AUTHXF || lookahead == K::S_ENCXF || lookahead == K::S_COMPXF ||
       lookahead == K::S_AUTHKEY || lookahead == K::S_ENCKEY || lookahead == K::S_UDPENCAP ||
       lookahead == K::S_BUNDLE || lookahead == K::S_NEWLINE || lookahead == K::S_YYEOF))
    return "a manual SA needs 'spi' right after its addresses: esp from A to B spi 0x1000 "
           "auth ... enc ... authkey 0x... enckey 0x...";

  if (lookahead == K::S_NUMBER && !before.empty() &&
      (before.back() == K::S_AUTHKEY || before.back() == K::S_ENCKEY))
    return "write keys in hexadecimal with a 0x prefix, e.g. authkey 0x0123456789abcdef...";
  if (lookahead == K::S_SLASH && !before.empty() && before.back() == K::S_STRING &&
      before.size() >= 2 &&
      (before[before.size() - 2] == K::S_PEER || before[before.size() - 2] == K::S_LOCAL))
    return "peer and local take one address, without a prefix length";
  if (lookahead == K::S_SLASH && !before.empty() && before.back() == K::S_STRING &&
      before.size() >= 2 &&
      (before[before.size() - 2] == K::S_SRCID || before[before.size() - 2] == K::S_DSTID))
    return "srcid and dstid take a name or an address; of prefixes only ADDRESS/32 "
           "(or /128) is accepted";
  if (lookahead == K::S_NUMBER && !before.empty() && before.back() == K::S_SLASH &&
      (contains(before, K::S_SRCID) || contains(before, K::S_DSTID)))
    return "an identity is one address: only /32 (IPv4) or /128 (IPv6) may follow it";

  // A word where a keyword was expected: probably a misspelling.
  std::vector<std::string> words;
  for (Kind k : expected) {
    std::string kw = keyword_text(k);
    if (!kw.empty()) words.push_back(kw);
  }
  if (lookahead == K::S_STRING) {
    std::vector<std::string> candidates = words;
    if (at_start)
      for (const char* kw : {"flow", "ike", "esp", "ah", "ipcomp", "ipip", "tcpmd5", "include"})
        candidates.emplace_back(kw);
    if (auto guess = closest_word(text, candidates))
      return "did you mean '" + *guess + "'?";
    // Any keyword at all, when the word is close to one.
    std::vector<std::string> every;
    for (const auto& [kw, token] : all_keywords()) every.emplace_back(kw);
    if (auto guess = closest_word(text, every))
      return "'" + *guess + "' (which '" + text + "' may be a misspelling of) does not fit here" +
             (words.empty() ? std::string() : "; expected " + quoted_list(words));
    if (at_start)
      return "a line holds a rule (flow, ike, esp, ah, ipcomp, ipip, tcpmd5), an include, "
             "or a macro definition (name = value)";
  }
  if ((lookahead == K::S_NEWLINE || lookahead == K::S_YYEOF) && contains(expected, K::S_FROM))
    return "the rule needs its addresses: from SOURCE to DESTINATION";
  if ((lookahead == K::S_NEWLINE || lookahead == K::S_YYEOF) && contains(expected, K::S_SPI))
    return "a manual SA needs 'spi' (and keys): esp from A to B spi 0x1000 authkey ... enckey ...";
  if (lookahead == K::S_NEWLINE || lookahead == K::S_YYEOF) {
    if (!words.empty() && words.size() <= 6)
      return "the line ends too early: expected " + quoted_list(words);
    if (contains(expected, K::S_STRING)) return "the line ends where a value was expected";
  }
  if (lookahead == K::S_JUNK)
    return "this character has no meaning here (quote values that contain it)";
  if (lookahead == K::S_MINUS) return "a '-' must be followed by digits or quoted";
  if (!words.empty() && words.size() <= 6) return "expected " + quoted_list(words);
  return {};
}

std::string open_failure(const std::string& path, int error) {
  switch (error) {
    case EACCES:
    case EPERM:
      return "permission denied: " + path +
             " is not readable by this user; run ipsecctl as root (loading needs root anyway)";
    case ENOENT:
      return "no such file: check the path (the systemd unit reads /etc/ipsecctl/ipsec.conf)";
    default:
      return {};
  }
}

}  // namespace ipsecctl::parser::hints
