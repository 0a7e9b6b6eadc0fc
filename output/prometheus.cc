#include "output/prometheus.h"

#include <cinttypes>
#include <cstdio>
#include <map>

#include "compiler/address.h"
#include "compiler/rule_text.h"

namespace ipsecctl::output {

namespace {

// A label value with backslash, double quote and newline escaped.
std::string escaped(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

class Exposition {
 public:
  void family(const char* name, const char* type, const char* help) {
    text_ += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  void sample(const char* name, const std::vector<std::pair<const char*, std::string>>& labels,
              std::uint64_t value) {
    sample_text(name, labels, std::to_string(value));
  }
  void sample_text(const char* name,
                   const std::vector<std::pair<const char*, std::string>>& labels,
                   const std::string& value) {
    text_ += name;
    if (!labels.empty()) {
      text_ += "{";
      for (std::size_t i = 0; i < labels.size(); ++i)
        text_ += std::string(i ? "," : "") + labels[i].first + "=\"" + escaped(labels[i].second) + "\"";
      text_ += "}";
    }
    text_ += " " + value + "\n";
  }
  std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

const char* protocol_name(std::uint8_t ipproto) {
  switch (ipproto) {
    case 50: return "esp";
    case 51: return "ah";
    case 108: return "ipcomp";
    case 4: return "ipip";
  }
  return "other";
}

std::string spi_text(std::uint32_t spi) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08" PRIx32, spi);
  return buf;
}

void kernel_metrics(Exposition& e, const backends::KernelSnapshot& kernel) {
  std::map<std::string, std::uint64_t> by_dir{{"in", 0}, {"out", 0}, {"fwd", 0}};
  for (const auto& p : kernel.policies)
    ++by_dir[p.dir == backends::PolicyDir::In ? "in" : p.dir == backends::PolicyDir::Out ? "out" : "fwd"];
  e.family("ipsecctl_flows", "gauge", "IPsec flows (kernel security policies), by direction.");
  for (const auto& [dir, n] : by_dir) e.sample("ipsecctl_flows", {{"direction", dir}}, n);
  e.family("ipsecctl_sas", "gauge", "Security associations in the kernel.");
  e.sample("ipsecctl_sas", {}, kernel.states.size());
  auto labels = [](const backends::KernelState& s) {
    return std::vector<std::pair<const char*, std::string>>{
        {"protocol", protocol_name(s.ipproto)}, {"spi", spi_text(s.spi)},
        {"src", compiler::format_address(s.src)}, {"dst", compiler::format_address(s.dst)}};
  };
  e.family("ipsecctl_sa_bytes_total", "counter", "Bytes each kernel SA has carried.");
  for (const auto& s : kernel.states) e.sample("ipsecctl_sa_bytes_total", labels(s), s.counters.bytes);
  e.family("ipsecctl_sa_packets_total", "counter", "Packets each kernel SA has carried.");
  for (const auto& s : kernel.states)
    e.sample("ipsecctl_sa_packets_total", labels(s), s.counters.packets);
}

// A connection is up when it has an established IKE SA with a child SA
// installed.
bool up(const backends::IkeSnapshot& ike, const std::string& connection) {
  for (const auto& sa : ike.sas) {
    if (sa.name != connection || sa.state != "ESTABLISHED") continue;
    for (const auto& child : sa.children)
      if (child.state == "INSTALLED") return true;
  }
  return false;
}

void ike_metrics(Exposition& e, const backends::IkeSnapshot& ike) {
  e.family("ipsecctl_connection_up", "gauge",
           "1 when the connection has an established IKE SA with a child SA installed.");
  for (const auto& c : ike.connections)
    e.sample("ipsecctl_connection_up", {{"daemon", ike.daemon}, {"connection", c}}, up(ike, c) ? 1 : 0);
  std::map<std::string, std::uint64_t> by_state{{"ESTABLISHED", 0}};
  for (const auto& sa : ike.sas) ++by_state[sa.state];
  e.family("ipsecctl_ike_sas", "gauge", "IKE SAs the IKE daemon holds, by state.");
  for (const auto& [state, n] : by_state)
    e.sample("ipsecctl_ike_sas", {{"daemon", ike.daemon}, {"state", state}}, n);
  for (const char* what : {"bytes", "packets"}) {
    const std::string name = std::string("ipsecctl_child_sa_") + what + "_total";
    e.family(name.c_str(), "counter",
             what[0] == 'b' ? "Bytes each child SA has carried, by direction."
                            : "Packets each child SA has carried, by direction.");
    for (const auto& sa : ike.sas)
      for (const auto& c : sa.children)
        for (const bool in : {true, false}) {
          const std::uint64_t n = what[0] == 'b' ? (in ? c.bytes_in : c.bytes_out)
                                                 : (in ? c.packets_in : c.packets_out);
          e.sample(name.c_str(), {{"daemon", ike.daemon}, {"connection", sa.name},
                                  {"child", c.name}, {"direction", in ? "in" : "out"},
                                  {"spi", in ? c.spi_in : c.spi_out}}, n);
        }
  }
}

}  // namespace

std::string render_show_prometheus(const backends::KernelSnapshot& kernel,
                                   const backends::IkeSnapshot* ike, const LoadTimes& loads) {
  Exposition e;
  kernel_metrics(e, kernel);
  if (ike != nullptr) ike_metrics(e, *ike);
  e.family("ipsecctl_last_load_timestamp_seconds", "gauge",
           "When ipsecctl last loaded each file successfully (Unix time).");
  for (const auto& [file, when] : loads) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch());
    char value[32];
    std::snprintf(value, sizeof value, "%lld.%03lld", static_cast<long long>(ms.count() / 1000),
                  static_cast<long long>(ms.count() % 1000));
    e.sample_text("ipsecctl_last_load_timestamp_seconds", {{"file", file}}, value);
  }
  return e.take();
}

}  // namespace ipsecctl::output
