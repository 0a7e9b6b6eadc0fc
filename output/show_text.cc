#include "output/show_text.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "backends/kernel/kernel_show.h"
#include "compiler/keys.h"
#include "compiler/rule_text.h"

namespace ipsecctl::output {

using backends::KernelPolicy;
using backends::KernelState;
using backends::PolicyDir;
using backends::flow_from_policy;
using backends::sa_from_state;
using compiler::FlowEntry;
using compiler::IpAddress;
using compiler::SaEntry;

namespace {

std::string without_newline(std::string text) {
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

std::string render_flows(const std::vector<KernelPolicy>& policies, const backends::IkeSnapshot* ike,
                         const ShowOptions& o, compiler::Resolver& resolver) {
  const std::vector<FlowEntry> flows = backends::flows_from_policies(policies, ike);
  std::string text;
  if (o.titles) text += "FLOWS:\n";
  if (flows.empty() && o.titles) text += "No flows\n";
  for (std::size_t i = 0; i < flows.size();) {
    std::size_t end = i + 1;
    if (o.collapse)
      while (end < flows.size() && backends::flows_collapse(flows[i], flows[end])) ++end;
    if (o.verbose > 1) {
      text += "@" + std::to_string(i);
      if (o.collapse)
        for (std::size_t k = i + 1; k < end; ++k) text += "," + std::to_string(k);
      text += " ";
    }
    if (o.collapse) {
      std::vector<IpAddress> sources, destinations;
      for (std::size_t k = i; k < end; ++k) {
        if (std::find(sources.begin(), sources.end(), flows[k].src) == sources.end())
          sources.push_back(flows[k].src);
        if (std::find(destinations.begin(), destinations.end(), flows[k].dst) ==
            destinations.end())
          destinations.push_back(flows[k].dst);
      }
      text += compiler::format_flow_group(flows[i], sources, destinations, resolver);
    } else {
      text += compiler::format_flow(flows[i], resolver);
    }
    i = end;
  }
  return text;
}

std::string render_states(const std::vector<KernelState>& unsorted, const ShowOptions& o) {
  std::vector<const KernelState*> states;
  for (const auto& s : unsorted) states.push_back(&s);
  std::stable_sort(states.begin(), states.end(),
                   [](const KernelState* a, const KernelState* b) { return a->spi < b->spi; });
  std::string text;
  if (o.titles) text += o.flows ? "\nSAD:\n" : "SAD:\n";
  if (states.empty() && o.titles) text += "No entries\n";
  for (const KernelState* s : states) {
    text += compiler::format_sa(sa_from_state(*s), o.show_keys);
    if (o.verbose > 0) text += format_state_details(*s, o.show_keys);
  }
  return text;
}

std::string render_ike(const backends::IkeSnapshot& ike) {
  std::string text = "\nIKE SAs:\n";
  if (ike.sas.empty()) text += "No entries\n";
  for (const auto& sa : ike.sas) {
    text += sa.name + " #" + sa.unique_id + " " + sa.state + " IKEv" + sa.version + " " +
            sa.local_host + " -> " + sa.remote_host + " " + sa.encryption;
    if (!sa.integrity.empty()) text += "/" + sa.integrity;
    if (!sa.prf.empty()) text += "/" + sa.prf;
    if (!sa.dh_group.empty()) text += "/" + sa.dh_group;
    if (!sa.local_id.empty() || !sa.remote_id.empty())
      text += " srcid " + sa.local_id + " dstid " + sa.remote_id;
    if (!sa.auth.empty()) text += " auth " + sa.auth;
    if (sa.state == "ESTABLISHED") text += " up " + std::to_string(sa.established) + "s";
    text += "\n";
    for (const auto& c : sa.children) {
      text += "\t" + c.name + " " + c.state + " " + c.mode + " " + c.protocol + " " +
              c.encryption;
      if (!c.integrity.empty()) text += "/" + c.integrity;
      if (!c.dh_group.empty()) text += "/" + c.dh_group;
      text += " spi in 0x" + c.spi_in + " out 0x" + c.spi_out + " lifetime " +
              std::to_string(c.life_time) + "s bytes in " + std::to_string(c.bytes_in) + " out " +
              std::to_string(c.bytes_out) + " packets in " + std::to_string(c.packets_in) +
              " out " + std::to_string(c.packets_out) + "\n";
      auto joined = [](const std::vector<std::string>& list) {
        std::string s;
        for (const auto& t : list) s += (s.empty() ? "" : ", ") + t;
        return s;
      };
      text += "\t\t" + joined(c.local_ts) + " === " + joined(c.remote_ts) + "\n";
    }
  }
  return text;
}

}  // namespace

std::string render_show_text(const backends::KernelSnapshot& kernel,
                             const backends::IkeSnapshot* ike, const ShowOptions& o,
                             compiler::Resolver& resolver) {
  std::string text;
  if (o.flows) text += render_flows(kernel.policies, ike, o, resolver);
  if (o.sas) text += render_states(kernel.states, o);
  if (ike != nullptr && o.titles) text += render_ike(*ike);
  return text;
}

std::string timestamp(std::chrono::system_clock::time_point when) {
  const auto since = when.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since - seconds);
  const std::time_t t = static_cast<std::time_t>(seconds.count());
  std::tm tm {};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis.count()));
  return buf;
}

std::string render_event_text(const backends::MonitorEvent& event, int verbose,
                              const std::string& wire_name, compiler::Resolver& resolver) {
  std::string text;
  if (verbose > 0) text += timestamp(event.when) + " ";
  text += event.name + ":";
  if (event.state) {
    text += " " + compiler::format_sa(sa_from_state(*event.state), false);
  } else if (event.policy) {
    KernelPolicy policy = *event.policy;
    const bool forward = policy.dir == PolicyDir::Fwd;
    if (forward) policy.dir = PolicyDir::In;
    text += " " + without_newline(compiler::format_flow(*flow_from_policy(policy), resolver)) +
            (forward ? " (forwarding)\n" : "\n");
  } else {
    text += "\n";
  }
  if (!event.detail.empty()) text += "\t" + event.detail + "\n";
  if (verbose > 0 && !event.raw.empty()) {
    text += "RAW " + wire_name + " MESSAGE:\n";
    char hex[4];
    for (std::size_t i = 0; i < event.raw.size(); ++i) {
      std::snprintf(hex, sizeof hex, "%02x ", event.raw[i]);
      text += hex;
      if (i % 8 == 7 || i + 1 == event.raw.size()) text += "\n";
    }
  }
  return text;
}

std::string format_state_details(const KernelState& s, bool show_keys) {
  char line[256];
  std::string out;
  const SaEntry sa = sa_from_state(s);
  if (s.comp) {
    std::snprintf(line, sizeof line, "\tsa: cpi 0x%8.8x comp deflate\n", s.spi);
  } else {
    std::snprintf(line, sizeof line, "\tsa: spi 0x%8.8x auth %s enc %s\n", s.spi,
                  sa.auth ? std::string(sa.auth->name).c_str() : "none",
                  sa.enc ? std::string(sa.enc->name).c_str() : "none");
  }
  out += line;
  unsigned flags = (s.mode == TunnelMode::Tunnel ? 0x4U : 0U) | (sa.udpencap ? 0x200U : 0U);
  std::string names;
  if (flags & 0x4U) names += "tunnel";
  if (flags & 0x200U) names += names.empty() ? "udpencap" : ",udpencap";
  std::snprintf(line, sizeof line, "\t\tstate mature replay %u flags %#x<%s>\n",
                s.replay_window, flags, names.c_str());
  out += line;
  std::snprintf(line, sizeof line, "\tlifetime_cur: alloc 0 bytes %llu add %llu first %llu\n",
                static_cast<unsigned long long>(s.counters.bytes),
                static_cast<unsigned long long>(s.counters.add_time),
                static_cast<unsigned long long>(s.counters.use_time));
  out += line;
  out += "\taddress_src: " + compiler::format_address(s.src) + "\n";
  out += "\taddress_dst: " + compiler::format_address(s.dst) + "\n";
  if (show_keys && s.auth && !s.auth_key.empty())
    out += "\tkey_auth: bits " + std::to_string(s.auth_key.size() * 8) + ": " +
           compiler::format_hex_key(s.auth_key) + "\n";
  if (show_keys && s.enc && !s.enc_key.empty())
    out += "\tkey_encrypt: bits " + std::to_string(s.enc_key.size() * 8) + ": " +
           compiler::format_hex_key(s.enc_key) + "\n";
  if (sa.udpencap) out += "\tudpencap: udpencap port " + std::to_string(s.encap_dport) + "\n";
  if (!s.unknown_auth.empty()) out += "\tkernel auth algorithm: " + s.unknown_auth + "\n";
  if (!s.unknown_enc.empty()) out += "\tkernel enc algorithm: " + s.unknown_enc + "\n";
  std::snprintf(line, sizeof line, "\tcounter:\n\t\t%llu packet%s\n\t\t%llu byte%s\n",
                static_cast<unsigned long long>(s.counters.packets),
                s.counters.packets == 1 ? "" : "s",
                static_cast<unsigned long long>(s.counters.bytes),
                s.counters.bytes == 1 ? "" : "s");
  out += line;
  if (s.counters.replay_failures != 0 || s.counters.integrity_failures != 0) {
    std::snprintf(line, sizeof line,
                  "\t\t%u packet%s dropped (replay)\n\t\t%u packet%s dropped (integrity)\n",
                  s.counters.replay_failures, s.counters.replay_failures == 1 ? "" : "s",
                  s.counters.integrity_failures, s.counters.integrity_failures == 1 ? "" : "s");
    out += line;
  }
  return out;
}

}  // namespace ipsecctl::output
