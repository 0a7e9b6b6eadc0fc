#include "output/json_render.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>

#include "backends/kernel/kernel_show.h"
#include "compiler/ike_policy.h"
#include "compiler/keys.h"
#include "compiler/rule_text.h"
#include "output/iked_text.h"
#include "output/json_writer.h"
#include "parser/iked/iked_transforms.h"

namespace ipsecctl::output {

using backends::KernelPolicy;
using backends::KernelState;
using backends::PolicyDir;
using compiler::FlowEntry;
using compiler::IpAddress;
using compiler::SaEntry;

namespace {

void address_or_null(JsonWriter& w, std::string_view key, const std::optional<IpAddress>& a) {
  w.key(key);
  if (a) w.value(compiler::format_prefix(*a));
  else w.null();
}

void number_or_null(JsonWriter& w, std::string_view key, std::uint64_t n) {
  w.key(key);
  if (n != 0) w.value(n);
  else w.null();
}

void text_or_null(JsonWriter& w, std::string_view key, std::string_view text) {
  w.key(key);
  if (!text.empty()) w.value(text);
  else w.null();
}

void origin(JsonWriter& w, const Diagnostics& diag, SourceLocation where) {
  w.key("origin").begin_object();
  w.field("file", diag.file_name(where.file));
  w.field("line", where.line);
  w.end_object();
}

const char* direction_name(Direction d) { return d == Direction::In ? "in" : "out"; }
const char* mode_name(TunnelMode m) { return m == TunnelMode::Tunnel ? "tunnel" : "transport"; }

void flow_fields(JsonWriter& w, const FlowEntry& f) {
  w.field("satype", compiler::satype_name(f.satype));
  w.field("direction", direction_name(f.direction));
  w.field("type", compiler::flow_type_name(f.type));
  number_or_null(w, "proto", f.proto);
  w.field("src", compiler::format_prefix(f.src));
  number_or_null(w, "src_port", f.sport);
  w.field("dst", compiler::format_prefix(f.dst));
  number_or_null(w, "dst_port", f.dport);
  address_or_null(w, "local", f.local);
  address_or_null(w, "peer", f.peer);
  text_or_null(w, "srcid", f.srcid ? std::string_view(f.srcid->text) : std::string_view());
  text_or_null(w, "dstid", f.dstid ? std::string_view(f.dstid->text) : std::string_view());
}

void sa_fields(JsonWriter& w, const SaEntry& sa, bool show_keys) {
  w.field("satype", compiler::satype_name(sa.satype));
  w.key("mode");
  if (sa.satype == SaType::Tcpmd5 || sa.satype == SaType::Ipip) w.null();
  else w.value(mode_name(sa.tmode));
  w.field("src", compiler::format_prefix(sa.src));
  w.field("dst", compiler::format_prefix(sa.dst));
  w.field("spi", static_cast<std::uint64_t>(sa.spi));
  text_or_null(w, "auth", sa.auth ? sa.auth->name : std::string_view());
  text_or_null(w, "enc", sa.enc ? sa.enc->name : std::string_view());
  text_or_null(w, "comp", sa.comp ? sa.comp->name : std::string_view());
  number_or_null(w, "udpencap_port", sa.udpencap ? (sa.udpencap_port ? sa.udpencap_port : 4500) : 0);
  if (show_keys) {
    text_or_null(w, "auth_key", sa.authkey ? compiler::format_hex_key(*sa.authkey) : "");
    text_or_null(w, "enc_key", sa.enckey ? compiler::format_hex_key(*sa.enckey) : "");
  }
}

// Every diagnostic of the run, errors by file and line.
void diagnostics_array(JsonWriter& w, const Diagnostics& diag) {
  w.key("diagnostics").begin_array();
  for (const auto& d : diag.records()) {
    w.begin_object();
    const char* severity = d.severity == Severity::Warning                                ? "warning"
                           : d.severity == Severity::Error || d.severity == Severity::Failure ? "error"
                                                                                             : "note";
    w.field("severity", severity);
    w.field("message", d.message);
    if (d.severity == Severity::Error || d.severity == Severity::Warning) {
      w.field("file", diag.file_name(d.reported.file));
      w.field("line", d.reported.line);
    } else {
      w.key("file").null();
      w.key("line").null();
    }
    w.key("column");
    if (d.span.known()) w.value(d.span.column);
    else w.null();
    text_or_null(w, "hint", d.hint);
    w.end_object();
  }
  w.end_array();
}

void kernel_state(JsonWriter& w, const KernelState& s, bool show_keys) {
  w.begin_object();
  sa_fields(w, backends::sa_from_state(s), show_keys);
  w.field("replay_window", s.replay_window);
  w.key("counters").begin_object();
  w.field("bytes", s.counters.bytes);
  w.field("packets", s.counters.packets);
  w.field("replay_failures", s.counters.replay_failures);
  w.field("integrity_failures", s.counters.integrity_failures);
  w.end_object();
  number_or_null(w, "added", s.counters.add_time);
  number_or_null(w, "last_used", s.counters.use_time);
  w.end_object();
}

void kernel_flows(JsonWriter& w, const std::vector<KernelPolicy>& policies,
                  const backends::IkeSnapshot* ike) {
  const std::vector<FlowEntry> flows = backends::flows_from_policies(policies, ike);
  w.key("flows").begin_array();
  for (const auto& f : flows) {
    w.begin_object();
    flow_fields(w, f);
    w.end_object();
  }
  w.end_array();
}

void ike_sas(JsonWriter& w, const backends::IkeSnapshot& ike) {
  w.key("ike_sas").begin_array();
  for (const auto& sa : ike.sas) {
    w.begin_object();
    w.field("name", sa.name);
    w.field("unique_id", sa.unique_id);
    w.field("state", sa.state);
    w.field("version", sa.version);
    w.field("local_host", sa.local_host);
    w.field("remote_host", sa.remote_host);
    text_or_null(w, "local_id", sa.local_id);
    text_or_null(w, "remote_id", sa.remote_id);
    text_or_null(w, "auth", sa.auth);
    text_or_null(w, "encryption", sa.encryption);
    text_or_null(w, "integrity", sa.integrity);
    text_or_null(w, "prf", sa.prf);
    text_or_null(w, "dh_group", sa.dh_group);
    w.field("established", sa.established);
    w.field("rekey_time", sa.rekey_time);
    w.field("reauth_time", sa.reauth_time);
    w.key("children").begin_array();
    for (const auto& c : sa.children) {
      w.begin_object();
      w.field("name", c.name);
      w.field("state", c.state);
      w.field("mode", c.mode);
      w.field("protocol", c.protocol);
      text_or_null(w, "encryption", c.encryption);
      text_or_null(w, "integrity", c.integrity);
      text_or_null(w, "dh_group", c.dh_group);
      w.field("spi_in", c.spi_in);
      w.field("spi_out", c.spi_out);
      w.field("bytes_in", c.bytes_in);
      w.field("bytes_out", c.bytes_out);
      w.field("packets_in", c.packets_in);
      w.field("packets_out", c.packets_out);
      w.field("install_time", c.install_time);
      w.field("rekey_time", c.rekey_time);
      w.field("life_time", c.life_time);
      w.key("local_ts").begin_array();
      for (const auto& t : c.local_ts) w.value(t);
      w.end_array();
      w.key("remote_ts").begin_array();
      for (const auto& t : c.remote_ts) w.value(t);
      w.end_array();
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();
}

}  // namespace

std::string render_show_json(const backends::KernelSnapshot& kernel,
                             const backends::IkeSnapshot* ike, const ShowOptions& o) {
  JsonWriter w;
  w.begin_object();
  if (o.flows) kernel_flows(w, kernel.policies, ike);
  if (o.sas) {
    std::vector<const KernelState*> states;
    for (const auto& s : kernel.states) states.push_back(&s);
    std::stable_sort(states.begin(), states.end(),
                     [](const KernelState* a, const KernelState* b) { return a->spi < b->spi; });
    w.key("sas").begin_array();
    for (const KernelState* s : states) kernel_state(w, *s, o.show_keys);
    w.end_array();
  }
  if (ike != nullptr && o.titles) ike_sas(w, *ike);
  w.end_object();
  return w.take() + "\n";
}

std::string render_event_json(const backends::MonitorEvent& event, bool raw) {
  JsonWriter w;
  w.begin_object();
  w.field("time", timestamp(event.when));
  w.field("event", event.name);
  w.key("flow");
  if (event.policy) {
    KernelPolicy policy = *event.policy;
    const bool forward = policy.dir == PolicyDir::Fwd;
    if (forward) policy.dir = PolicyDir::In;
    w.begin_object();
    flow_fields(w, *backends::flow_from_policy(policy));
    w.key("forwarding").boolean(forward);
    w.end_object();
  } else {
    w.null();
  }
  w.key("sa");
  if (event.state) kernel_state(w, *event.state, false);
  else w.null();
  text_or_null(w, "detail", event.detail);
  if (raw) {
    std::string hex;
    char b[3];
    for (auto byte : event.raw) {
      std::snprintf(b, sizeof b, "%02x", byte);
      hex += b;
    }
    w.field("raw", hex);
  }
  w.end_object();
  return w.take() + "\n";
}

namespace {

// --iked: the users and policies as iked builds them.
void iked_json(JsonWriter& w, const iked::Config& config, const Diagnostics& diag,
               bool show_keys) {
  w.key("iked").begin_object();
  w.key("users").begin_array();
  for (const iked::User& u : config.users) {
    w.begin_object();
    w.field("name", u.name);
    if (show_keys) w.field("password", u.password);
    origin(w, diag, u.origin);
    w.end_object();
  }
  w.end_array();
  w.key("policies").begin_array();
  for (const iked::Policy& p : config.policies) {
    w.begin_object();
    w.field("name", p.name);
    w.field("mode", (p.flags & iked::kActive) != 0 ? "active" : "passive");
    w.field("encapsulation", (p.flags & iked::kTransport) != 0 ? "transport" : "tunnel");
    w.field("satype", p.saproto == 2 ? "ah" : "esp");
    w.key("flows").begin_array();
    for (const iked::Flow& f : p.flows) {
      w.begin_object();
      w.field("src", output::render_iked_address(f.src));
      number_or_null(w, "src_port", ntohs(f.src.port_be));
      w.field("dst", output::render_iked_address(f.dst));
      number_or_null(w, "dst_port", ntohs(f.dst.port_be));
      number_or_null(w, "proto", static_cast<std::uint64_t>(f.ipproto));
      w.end_object();
    }
    w.end_array();
    w.field("local", output::render_iked_address(p.local));
    w.field("peer", output::render_iked_address(p.peer));
    w.key("proposals").begin_array();
    for (const iked::Proposal& proposal : p.proposals) {
      if (proposal.transforms.empty()) continue;
      w.begin_object();
      w.field("sa", proposal.ike ? "ike" : "child");
      w.field("transforms", output::render_iked_proposal(proposal));
      w.end_object();
    }
    w.end_array();
    text_or_null(w, "srcid", p.srcid);
    text_or_null(w, "dstid", p.dstid);
    number_or_null(w, "ikelifetime", p.ike_rekey_seconds);
    w.field("lifetime", static_cast<std::uint64_t>(p.lifetime.seconds));
    w.field("bytes", static_cast<std::uint64_t>(p.lifetime.bytes));
    w.field("auth", p.auth.method == iked::AuthMethod::Psk ? std::string("psk")
                    : p.auth.eap_mschapv2 ? std::string("eap-mschapv2")
                                          : std::string(iked::name_of(
                                                iked::NameTable::AuthMethod,
                                                static_cast<unsigned>(p.auth.method))));
    if (show_keys && p.auth.method == iked::AuthMethod::Psk)
      w.field("psk", std::string(p.auth.psk.begin(), p.auth.psk.end()));
    origin(w, diag, p.origin);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

}  // namespace

std::string render_plan_json(const compiler::Plan& plan, const Diagnostics& diag,
                             const PlanJsonOptions& o) {
  JsonWriter w;
  w.begin_object();
  w.key("valid").boolean(o.ok);
  w.key("flows").begin_array();
  for (const auto& f : plan.flows) {
    w.begin_object();
    w.field("rule", f.nr);
    flow_fields(w, f);
    origin(w, diag, f.origin);
    w.end_object();
  }
  w.end_array();
  w.key("sas").begin_array();
  for (const auto& sa : plan.sas) {
    w.begin_object();
    w.field("rule", sa.nr);
    sa_fields(w, sa, o.show_keys);
    origin(w, diag, sa.origin);
    w.end_object();
  }
  w.end_array();
  w.key("bundles").begin_array();
  for (const auto& b : plan.bundles) {
    w.begin_object();
    w.field("rule", b.nr);
    w.field("satype1", compiler::satype_name(b.satype1));
    w.field("dst1", compiler::format_prefix(b.dst1));
    w.field("spi1", static_cast<std::uint64_t>(b.spi1));
    w.field("satype2", compiler::satype_name(b.satype2));
    w.field("dst2", compiler::format_prefix(b.dst2));
    w.field("spi2", static_cast<std::uint64_t>(b.spi2));
    origin(w, diag, b.origin);
    w.end_object();
  }
  w.end_array();
  w.key("ike").begin_array();
  for (const auto& r : plan.ikes) {
    const compiler::IkePolicy p = compiler::ike_policy(r);
    w.begin_object();
    w.field("rule", r.nr);
    w.field("ike_version", ike_version_text(r.version));
    w.field("mode", r.mode == IkeMode::Active    ? "active"
                    : r.mode == IkeMode::Passive ? "passive"
                                                 : "dynamic");
    w.field("satype", compiler::satype_name(r.satype));
    w.field("encapsulation", mode_name(r.tmode));
    number_or_null(w, "proto", r.proto);
    w.field("src", r.src.name);
    number_or_null(w, "src_port", r.sport);
    w.field("dst", r.dst.name);
    number_or_null(w, "dst_port", r.dport);
    text_or_null(w, "peer", r.peer ? std::string_view(r.peer->name) : std::string_view());
    text_or_null(w, "local", r.local ? std::string_view(r.local->name) : std::string_view());
    text_or_null(w, "srcid", r.srcid ? std::string_view(r.srcid->text) : std::string_view());
    text_or_null(w, "dstid", r.dstid ? std::string_view(r.dstid->text) : std::string_view());
    w.field("auth", r.psk ? "psk" : "rsa");
    if (o.show_keys && r.psk) w.field("psk", r.psk_text);
    text_or_null(w, "tag", r.tag ? std::string_view(*r.tag) : std::string_view());
    w.key("interface");
    if (r.sec_interface) w.value(*r.sec_interface);
    else w.null();
    w.key("names").begin_object();
    w.field("phase1", p.names.phase1);
    w.field("phase2", p.names.phase2);
    w.field("local_id", p.names.local_id);
    w.field("remote_id", p.names.remote_id);
    text_or_null(w, "nat_id", p.names.nat_id);
    w.end_object();
    auto lifetime = [&](const std::optional<int>& l) {
      w.key("lifetime");
      if (l) w.value(*l);
      else w.null();
    };
    if (p.refusal && p.refusal->stage == compiler::IkeRefusalStage::Phase1) {
      w.key("phase1").null();
      w.key("phase2").null();
    } else {
      w.key("phase1").begin_object();
      w.field("exchange", p.phase1.exchange == Phase1Exchange::Main ? "main" : "aggressive");
      w.field("enc", p.phase1.enc->name);
      w.field("hash", p.phase1.hash->name);
      w.field("group", p.phase1.group->name);
      lifetime(p.phase1.lifetime);
      w.end_object();
      w.key("phase2");
      if (p.refusal) {
        w.null();
      } else {
        w.begin_object();
        w.field("protocol", compiler::satype_name(p.phase2.protocol));
        text_or_null(w, "enc", p.phase2.enc ? p.phase2.enc->name : std::string_view());
        text_or_null(w, "auth", p.phase2.auth ? p.phase2.auth->name : std::string_view());
        text_or_null(w, "group", p.phase2.group ? p.phase2.group->name : std::string_view());
        lifetime(p.phase2.lifetime);
        w.end_object();
      }
    }
    text_or_null(w, "refusal", p.refusal ? std::string_view(p.refusal->message) : "");
    origin(w, diag, r.origin);
    w.end_object();
  }
  w.end_array();
  if (plan.iked) iked_json(w, *plan.iked, diag, o.show_keys);
  diagnostics_array(w, diag);
  w.end_object();
  return w.take() + "\n";
}

namespace {

const char* verb_name(backends::ChangeVerb verb) {
  return verb == backends::ChangeVerb::Add      ? "add"
         : verb == backends::ChangeVerb::Change ? "change"
                                                : "remove";
}

}  // namespace

std::string render_changes_json(const std::vector<backends::BackendChanges>& changes,
                                const Diagnostics& diag, const ChangesJsonOptions& options) {
  JsonWriter w;
  w.begin_object();
  w.key("ok").boolean(options.ok);
  w.key("dry_run").boolean(options.dry_run);
  bool changed = false;
  for (const auto& c : changes) changed = changed || c.any();
  w.key("changed").boolean(changed);
  if (!options.text.empty()) w.field("text", options.text);
  w.key("backends").begin_array();
  for (const auto& backend : changes) {
    w.begin_object();
    w.field("backend", backend.backend);
    w.key("counts").begin_object();
    for (const auto& [kind, c] : backend.counts) {
      w.key(kind).begin_object();
      w.field("added", static_cast<std::uint64_t>(c.added));
      w.field("changed", static_cast<std::uint64_t>(c.changed));
      w.field("removed", static_cast<std::uint64_t>(c.removed));
      w.field("unchanged", static_cast<std::uint64_t>(c.unchanged));
      w.end_object();
    }
    w.end_object();
    w.key("changes").begin_array();
    for (const auto& e : backend.entries) {
      w.begin_object();
      w.field("verb", verb_name(e.verb));
      if (e.policy) {
        w.field("kind", "flow");
        if (auto flow = backends::flow_from_policy(*e.policy)) {
          w.key("flow").begin_object();
          flow_fields(w, *flow);
          w.end_object();
        }
        if (e.policy_before)
          if (auto was = backends::flow_from_policy(*e.policy_before)) {
            w.key("before").begin_object();
            flow_fields(w, *was);
            w.end_object();
          }
      } else if (e.state) {
        w.field("kind", "sa");
        w.key("sa");
        kernel_state(w, *e.state, options.show_keys);
      } else {
        w.field("kind", e.kind);
        w.field("name", e.name);
      }
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();
  diagnostics_array(w, diag);
  w.end_object();
  return w.take() + "\n";
}

}  // namespace ipsecctl::output
