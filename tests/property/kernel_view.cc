#include "tests/property/kernel_view.h"

#include <algorithm>
#include <cstdio>

#include "compiler/address.h"

namespace ipsecctl::property {

namespace {

std::string hex(const std::vector<std::uint8_t>& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (std::uint8_t b : bytes) s += {digits[b >> 4], digits[b & 15]};
  return s;
}

std::string num(unsigned long long v) { return std::to_string(v); }

std::string address(const compiler::IpAddress& a) {
  if (a.family == compiler::Family::Unspec) return "any";
  return compiler::format_address(a) + "/" + num(a.prefixlen);
}

// What the kernel tells policies apart by (xfrm_policy_insert: direction,
// selector, mark, interface id).
std::string policy_key_text(const backends::KernelPolicy& p) {
  const auto& s = p.selector;
  return "policy dir " + num(static_cast<unsigned>(p.dir)) + " " + address(s.src) + " " +
         address(s.dst) + " proto " + num(s.proto) + " sport " + num(s.sport) + " dport " +
         num(s.dport) + " mark " + num(p.mark) + "/" + num(p.mark_mask) + " if_id " +
         num(p.if_id);
}

std::string policy_text(const backends::KernelPolicy& p) {
  std::string s = std::string(p.block ? "block" : "allow") + " priority " + num(p.priority) +
                  (p.has_security_context ? " ctx" : "");
  for (const auto& t : p.templates)
    s += " | tmpl proto " + num(t.ipproto) + " mode " + num(static_cast<unsigned>(t.mode)) +
         (t.optional ? " optional" : "") + " " + address(t.src) + " -> " + address(t.dst) +
         " reqid " + num(t.reqid) + " spi " + num(t.spi);
  return s;
}

std::string state_key_text(const backends::KernelState& st) {
  return "sa " + address(st.dst) + " proto " + num(st.ipproto) + " spi " + num(st.spi) +
         " mark " + num(st.mark);
}

std::string state_text(const backends::KernelState& st) {
  std::string s = "src " + address(st.src) + " mode " + num(static_cast<unsigned>(st.mode)) +
                  " reqid " + num(st.reqid);
  if (st.auth) s += " auth " + num(static_cast<unsigned>(*st.auth)) + " " + hex(st.auth_key) +
                    " trunc " + num(st.auth_trunc_bits);
  if (st.enc) s += " enc " + num(static_cast<unsigned>(*st.enc)) + " " + hex(st.enc_key) +
                   " icv " + num(st.icv_bits);
  if (st.comp) s += " comp";
  s += " encap " + num(st.encap_sport) + "/" + num(st.encap_dport) + " replay " +
       num(st.replay_window) + (st.any_inner_family ? " af-unspec" : "") + " if_id " +
       num(st.if_id) + " " + st.unknown_auth + " " + st.unknown_enc;
  return s;
}

}  // namespace

KernelView view_of(const backends::KernelSnapshot& snapshot) {
  KernelView view;
  for (const auto& p : snapshot.policies) {
    const bool daemons = std::any_of(p.templates.begin(), p.templates.end(),
                                     [](const backends::PolicyTemplate& t) { return t.reqid != 0; });
    if (!daemons) view[policy_key_text(p)] = policy_text(p);
  }
  for (const auto& st : snapshot.states)
    if (st.reqid == 0) view[state_key_text(st)] = state_text(st);
  return view;
}

std::set<std::string> change_lines(const backends::BackendChanges& changes) {
  std::map<std::string, std::string> added, changed;
  std::set<std::string> removed;
  for (const auto& e : changes.entries) {
    std::string key, content;
    if (e.policy) key = policy_key_text(*e.policy), content = policy_text(*e.policy);
    else if (e.state) key = state_key_text(*e.state), content = state_text(*e.state);
    else key = e.kind + " " + e.name;  // a daemon's entry
    switch (e.verb) {
      case backends::ChangeVerb::Add: added[key] = content; break;
      case backends::ChangeVerb::Change: changed[key] = content; break;
      case backends::ChangeVerb::Remove: removed.insert(key); break;
    }
  }
  std::set<std::string> lines;
  for (const auto& [key, content] : added) {
    if (removed.erase(key) != 0) changed[key] = content;
    else lines.insert("add " + key + " = " + content);
  }
  for (const auto& [key, content] : changed) lines.insert("change " + key + " = " + content);
  for (const auto& key : removed) lines.insert("remove " + key);
  return lines;
}

// A `fwd` policy is the Linux half of an `in` flow and is reported as that
// flow's (see kernel_load_outcome.cc); the fresh load's comparison covers
// it in full.
bool forward_policy(const std::string& key) { return key.rfind("policy dir 2 ", 0) == 0; }

std::set<std::string> change_lines(const KernelView& before, const KernelView& after) {
  std::set<std::string> lines;
  for (const auto& [key, content] : after) {
    if (forward_policy(key)) continue;
    auto it = before.find(key);
    if (it == before.end()) lines.insert("add " + key + " = " + content);
    else if (it->second != content) lines.insert("change " + key + " = " + content);
  }
  for (const auto& [key, content] : before)
    if (!forward_policy(key) && after.count(key) == 0) lines.insert("remove " + key);
  return lines;
}

std::string difference(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::string s;
  for (const auto& line : a)
    if (b.count(line) == 0) s += "    " + line + "\n";
  return s;
}

std::string difference(const KernelView& a, const KernelView& b) {
  std::string s;
  for (const auto& [key, content] : a) {
    auto it = b.find(key);
    if (it == b.end()) s += "    only here: " + key + " = " + content + "\n";
    else if (it->second != content) s += "    differs:   " + key + " = " + content + "\n";
  }
  return s;
}

}  // namespace ipsecctl::property
