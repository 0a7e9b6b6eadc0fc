#include "output/swanctl_conf.h"

#include <cstdint>
#include <map>
#include <set>

namespace ipsecctl::output {

using backends::vici::ViciItem;
using backends::vici::ViciSection;

namespace {

// What swanctl.conf takes unquoted: names, numbers, addresses, proposals,
// traffic selectors. Anything else is quoted (a '#' would start a comment,
// a brace a section, spaces at either end would be trimmed).
bool plain(const std::string& v) {
  if (v.empty()) return false;
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == ':' || c == '/' || c == '@' || c == '%' || c == '+' ||
                    c == '-' || c == '_' || c == '~' || c == '[' || c == ']' || c == '*';
    if (!ok) return false;
  }
  return true;
}

std::string quoted(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string scalar(const std::string& v) { return plain(v) ? v : quoted(v); }

std::uint32_t byte_at(const std::string& bytes, std::size_t i) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i]));
}

std::string base64(const std::string& bytes) {
  static const char kDigits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const std::uint32_t n = byte_at(bytes, i) << 16 | byte_at(bytes, i + 1) << 8 |
                            byte_at(bytes, i + 2);
    for (int shift = 18; shift >= 0; shift -= 6) out += kDigits[(n >> shift) & 63];
  }
  if (i < bytes.size()) {
    std::uint32_t n = byte_at(bytes, i) << 16;
    if (i + 1 < bytes.size()) n |= byte_at(bytes, i + 1) << 8;
    out += kDigits[(n >> 18) & 63];
    out += kDigits[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kDigits[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// A shared secret as swanctl reads it: quoted text, unless swanctl would
// take the text for an encoding ("0x..." is hex, "0s..." base64 to it) or
// it holds bytes a quoted string cannot: then base64 ("0s...").
std::string secret_value(const std::string& data) {
  bool text = data.size() < 2 || !(data[0] == '0' && (data[1] == 'x' || data[1] == 's'));
  for (char ch : data) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c > 0x7e) text = false;
  }
  return text ? quoted(data) : "0s" + base64(data);
}

// `files`: keys and certificates load-conn carries as PEM, which
// swanctl.conf names by their files (certs, pubkeys, cacerts take paths).
void write_section(std::string& out, const ViciSection& items, int depth,
                   const std::map<std::string, std::string>& files) {
  const std::string indent(static_cast<std::size_t>(depth) * 4, ' ');
  auto named = [&](const std::string& v) {
    auto it = files.find(v);
    return scalar(it == files.end() ? v : it->second);
  };
  for (const ViciItem& item : items) {
    switch (item.kind) {
      case ViciItem::Kind::Value:
        out += indent + item.name + " = " + scalar(item.value) + "\n";
        break;
      case ViciItem::Kind::List: {
        out += indent + item.name + " =";
        for (std::size_t i = 0; i < item.list.size(); ++i)
          out += (i == 0 ? " " : ", ") + named(item.list[i]);
        out += "\n";
        break;
      }
      case ViciItem::Kind::Section:
        out += indent + item.name + " {\n";
        write_section(out, item.section, depth + 1, files);
        out += indent + "}\n";
        break;
    }
  }
}

}  // namespace

std::string render_swanctl_conf(const std::vector<backends::vici::ViciConnection>& connections,
                                const std::string& header) {
  std::string out;
  if (!header.empty()) out += "# " + header + "\n";
  out += "connections {\n";
  for (const auto& c : connections) write_section(out, c.load_conn, 1, c.key_files);
  out += "}\n";
  // The private key: ipsecctl hands it to charon itself (load-key);
  // swanctl --load-all reads private keys from its own folder only.
  std::set<std::string> private_keys;
  for (const auto& c : connections)
    if (c.private_key) private_keys.insert(c.private_key->path);
  for (const std::string& path : private_keys)
    out += "# The connections without psk sign with " + path +
           "; swanctl loads private keys from its own folder only:\n#   ln -s " + path +
           " /etc/swanctl/private/\n";
  // Address pools (iked.conf's `config address ...`).
  bool any_pool = false;
  for (const auto& c : connections) any_pool = any_pool || !c.pools.empty();
  if (any_pool) {
    out += "pools {\n";
    for (const auto& c : connections)
      for (const auto& pool : c.pools) write_section(out, pool.body, 1, c.key_files);
    out += "}\n";
  }
  bool any_secret = false;
  for (const auto& c : connections)
    any_secret = any_secret || c.secret.has_value() || !c.user_secrets.empty();
  if (!any_secret) return out;
  out += "secrets {\n";
  // iked.conf's users: EAP secrets, the user's name as their identity.
  for (const auto& c : connections) {
    for (const auto& user : c.user_secrets) {
      out += "    " + user.base_id + " {\n";
      for (const ViciItem& item : user.body) {
        if (item.name == "data") out += "        secret = " + secret_value(item.value) + "\n";
        else if (item.name == "owners" && !item.list.empty())
          out += "        id = " + scalar(item.list.front()) + "\n";
      }
      out += "    }\n";
    }
  }
  for (const auto& c : connections) {
    if (!c.secret) continue;
    out += "    " + c.secret->base_id + " {\n";
    int n = 0;
    for (const ViciItem& item : c.secret->body) {
      if (item.name == "data")
        out += "        secret = " + secret_value(item.value) + "\n";
      else if (item.name == "owners")
        for (const std::string& owner : item.list)
          out += "        id-" + std::to_string(++n) + " = " + scalar(owner) + "\n";
    }
    out += "    }\n";
  }
  out += "}\n";
  return out;
}

}  // namespace ipsecctl::output
