#include "tests/property/charon_view.h"

#include <cstdio>
#include <stdexcept>

#include "backends/vici/vici_client.h"

namespace ipsecctl::property {

namespace {

using backends::vici::ViciItem;
using backends::vici::ViciSection;

std::string base_of(const std::string& id) { return id.substr(0, id.find('~')); }

void render(const ViciSection& section, const std::string& indent, std::string& out) {
  for (const ViciItem& item : section) {
    switch (item.kind) {
      case ViciItem::Kind::Value: out += indent + item.name + " = " + item.value + "\n"; break;
      case ViciItem::Kind::List:
        out += indent + item.name + " = [";
        for (const auto& v : item.list) out += " " + v;
        out += " ]\n";
        break;
      case ViciItem::Kind::Section:
        out += indent + item.name + " {\n";
        render(item.section, indent + "  ", out);
        out += indent + "}\n";
        break;
    }
  }
}

}  // namespace

void CharonSettingsLog::update() {
  std::FILE* f = std::fopen(path_.c_str(), "re");
  if (f == nullptr) return;
  if (std::fseek(f, static_cast<long>(offset_), SEEK_SET) == 0) {
    char buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
      offset_ += n;
      partial_.append(buf, n);
      std::size_t start = 0, end;
      while ((end = partial_.find('\n', start)) != std::string::npos) {
        line(partial_.substr(start, end - start));
        start = end + 1;
      }
      partial_.erase(0, start);
    }
  }
  std::fclose(f);
}

// "HH:MM:SS NN[CFG]  conn NAME:" opens a connection's block; the lines of
// the same thread indented further are its settings; anything else of
// that thread ends it (charon logs "added vici connection: NAME").
void CharonSettingsLog::line(const std::string& text) {
  const std::size_t tag = text.find("[CFG] ");
  if (tag == std::string::npos) return;
  const std::size_t space = text.rfind(' ', tag);
  const std::string thread = text.substr(space == std::string::npos ? 0 : space + 1,
                                         tag - (space == std::string::npos ? 0 : space + 1));
  const std::string body = text.substr(tag + 6);
  if (!block_name_.empty() && thread == block_thread_) {
    if (body.rfind("  ", 0) == 0) {
      // The IKE port is charon's pick where it is not set.
      if (body.find("local_port = ") == std::string::npos) block_ += body + "\n";
      return;
    }
    settings_[block_name_] = block_;
    block_name_.clear();
  }
  if (body.rfind(" conn ", 0) == 0 && body.size() > 7 && body.back() == ':') {
    block_name_ = body.substr(6, body.size() - 7);
    block_thread_ = thread;
    block_.clear();
  }
}

std::string CharonSettingsLog::settings(const std::string& connection) const {
  auto it = settings_.find(connection);
  return it == settings_.end() ? std::string() : it->second;
}

CharonView charon_view(const std::string& vici_socket, CharonSettingsLog* log) {
  if (log != nullptr) log->update();
  backends::vici::ViciClient client(vici_socket);
  CharonView view;
  client.call_streaming("list-conns", {}, "list-conn", [&](const ViciSection& event) {
    for (const ViciItem& conn : event) {
      if (conn.kind != ViciItem::Kind::Section) continue;
      std::string text;
      render(conn.section, "", text);
      if (log != nullptr) {
        const std::string settings = log->settings(conn.name);
        // A connection charon holds was logged when it was loaded: none
        // found means the log is not read right, and nothing is compared.
        if (settings.empty())
          throw std::runtime_error("charon's log has no settings of " + conn.name);
        text += "logged settings:\n" + settings;
      }
      view.connections[conn.name] = text;
    }
  });
  const ViciSection shared = client.call("get-shared", {});
  if (const ViciItem* keys = backends::vici::find(shared, "keys"))
    for (const auto& id : keys->list) view.secrets[base_of(id)].insert(id);
  return view;
}

namespace {

// The lines for one kind of entry: added, changed (other content) and
// removed names.
template <typename Map>
void map_changes(const Map& before, const Map& after, const std::string& kind,
                 std::set<std::string>& lines) {
  for (const auto& [name, content] : after) {
    auto it = before.find(name);
    if (it == before.end()) lines.insert("add " + kind + " " + name + " = ");
    else if (it->second != content) lines.insert("change " + kind + " " + name + " = ");
  }
  for (const auto& [name, content] : before)
    if (after.count(name) == 0) lines.insert("remove " + kind + " " + name);
}

}  // namespace

std::set<std::string> change_lines(const CharonView& before, const CharonView& after) {
  std::set<std::string> lines;
  map_changes(before.connections, after.connections, "connection", lines);
  map_changes(before.secrets, after.secrets, "secret", lines);
  return lines;
}

std::set<std::string> daemon_change_lines(const backends::BackendChanges& changes) {
  std::set<std::string> lines;
  for (const auto& e : changes.entries) {
    const std::string name = e.kind == "secret" ? base_of(e.name) : e.name;
    switch (e.verb) {
      case backends::ChangeVerb::Add: lines.insert("add " + e.kind + " " + name + " = "); break;
      case backends::ChangeVerb::Change:
        lines.insert("change " + e.kind + " " + name + " = ");
        break;
      case backends::ChangeVerb::Remove: lines.insert("remove " + e.kind + " " + name); break;
    }
  }
  return lines;
}

std::string difference(const CharonView& a, const CharonView& b) {
  std::string s;
  for (const auto& [name, text] : a.connections) {
    auto it = b.connections.find(name);
    if (it == b.connections.end()) s += "    only here: connection " + name + "\n";
    else if (it->second != text) s += "    differs: connection " + name + ":\n" + text;
  }
  for (const auto& [base, ids] : a.secrets)
    if (b.secrets.count(base) == 0) s += "    only here: secret " + base + "\n";
  return s;
}

}  // namespace ipsecctl::property
