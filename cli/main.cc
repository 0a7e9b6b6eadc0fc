// ipsecctl: options, dispatch, exit status. The work is done by the
// libraries: compiler/ (the configuration), engine/ (the backends, all or
// nothing) and output/ (OpenBSD's text or JSON).
//
// Order of work, as on OpenBSD: -F flush, then -f load (or -d remove),
// then -s show, then -m monitor.
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "cli/options.h"
#include "common/diagnostics.h"
#include "compiler/resolver.h"
#include "engine/session.h"
#include "output/change_text.h"
#include "output/iked_text.h"
#include "output/json_render.h"
#include "output/prometheus.h"
#include "output/rule_printer.h"
#include "output/show_text.h"
#include "output/swanctl_conf.h"

#ifndef IPSECCTL_VERSION
#define IPSECCTL_VERSION "unknown"
#endif

namespace {

using namespace ipsecctl;

// stdout is buffered like OpenBSD's stdio on a pipe, so diagnostics on
// (unbuffered) stderr come first when both go to one pipe.
char g_stdout_buffer[16384];

class Run {
 public:
  explicit Run(const cli::Options& options)
      : options_(options), session_(session_options(options), diagnostics_, resolver_) {
    const bool terminal = ::isatty(STDERR_FILENO) != 0;
    const bool carets = options.carets == cli::When::Always ||
                        (options.carets == cli::When::Auto && terminal);
    const bool color = options.color == cli::When::Always ||
                       (options.color == cli::When::Auto && terminal);
    diagnostics_.set_style(carets ? DiagnosticStyle::Caret : DiagnosticStyle::OpenBsd, color);
  }

  int operator()() {
    int status = 0;
    if (options_.flush && !options_.no_action && !session_.flush()) status = 1;
    if (options_.file) status = std::max(status, load());
    if (options_.show && !show()) status = 1;
    if (options_.monitor && !monitor()) status = 1;
    diagnostics_.flush();
    return status;
  }

 private:
  static engine::SessionOptions session_options(const cli::Options& o) {
    engine::SessionOptions s;
    s.kernel = o.kernel;
    s.ike = o.ike;
    s.endpoints.vici = o.vici;
    s.endpoints.key_directory = o.keys;
    s.endpoints.isakmpd_fifo = o.fifo;
    if (o.wait) s.wait = std::chrono::seconds(*o.wait);
    s.daemon_patience = std::chrono::seconds(o.wait_daemon);
    return s;
  }

  // -n, -f, -d -f and --diff -f: one call, then rendering. --diff exits
  // 2 when a load would change something.
  int load() {
    output::PrintOptions print;
    print.rule_numbers = options_.verbose > 1;
    print.deleting = options_.deleting;
    print.show_keys = options_.show_keys;
    output::RulePrinter printer(stdout, resolver_, diagnostics_, print);
    // JSON wants stdout to itself: no -v text then.
    const bool print_rules =
        options_.verbose > 0 && !options_.show && options_.format == cli::Format::Text;
    engine::LoadRequest request;
    request.compile.path = *options_.file;
    if (options_.iked) {
      request.compile.language = compiler::Language::Iked;
      // iked prints each policy on stderr as it reads it, between the
      // messages about the lines around it, and so do we (-n -v).
      if (print_rules && options_.no_action)
        request.compile.iked_listener = [this](const iked::Config& config,
                                               iked::Config::Kind kind, std::size_t index) {
          std::string text = kind == iked::Config::Kind::User
                                 ? output::render_iked_user(config.users[index])
                                 : output::render_iked_policy(config.policies[index]);
          text.pop_back();
          diagnostics_.plain(text);
        };
    }
    request.compile.defines = options_.defines;
    request.compile.listener = print_rules ? &printer : nullptr;
    request.compile.printing_adds = print_rules && !options_.deleting;
    request.compile.report_unused_macros = options_.verbose > 1;
    request.compile.allow_static_aead = options_.allow_static_aead;
    request.compile.ike_version = options_.ike_version;
    request.action = options_.deleting ? backends::Action::Delete : backends::Action::Add;
    request.mode = options_.no_action ? engine::LoadMode::Check
                   : options_.diff    ? engine::LoadMode::Diff
                                      : engine::LoadMode::Load;
    request.list_changes = options_.diff || print_rules;
    request.record_as = options_.record_as;
    engine::LoadResult result;
    session_.load(request, result);
    const bool as_json = options_.format == cli::Format::Json;
    std::string text;
    if (options_.format == cli::Format::Swanctl) {
      if (!result.ok) return 1;
      auto charon = session_.charon_configuration(result.compiled.plan);
      if (!charon) return 1;
      text = output::render_swanctl_conf(
          *charon, "swanctl.conf(5): what `ipsecctl -f " + *options_.file + "` gives charon");
    } else if (as_json && options_.no_action) {
      output::PlanJsonOptions json;
      json.show_keys = options_.show_keys;
      json.ok = result.ok;
      text = output::render_plan_json(result.compiled.plan, diagnostics_, json);
    } else if (as_json && !options_.no_action) {
      output::ChangesJsonOptions json;
      json.ok = result.ok;
      json.dry_run = options_.diff;
      json.show_keys = options_.show_keys;
      if (options_.diff && result.ok)
        json.text = output::render_changes_text(result.changes, resolver_, options_.show_keys);
      text = output::render_changes_json(result.changes, diagnostics_, json);
    } else if (request.list_changes && result.ok && !options_.no_action) {
      text = output::render_changes_text(result.changes, resolver_, options_.show_keys);
    } else if (options_.iked && options_.no_action) {
      if (result.ok) diagnostics_.plain("configuration OK");
    } else if (print_rules && options_.no_action && result.ok && !options_.deleting) {
      // IKEv2 rules never reach isakmpd: -nv shows them as charon gets them.
      if (!ikev2_rules(result.compiled.plan)) return 0;
      auto charon = session_.charon_configuration(result.compiled.plan);
      if (!charon) return 1;
      std::erase_if(*charon, [](const auto& c) { return c.version != IkeVersion::V2; });
      text = output::render_swanctl_conf(*charon, "IKEv2 rules, as strongSwan's charon gets them");
    }
    std::fwrite(text.data(), 1, text.size(), stdout);
    if (!result.ok) return 1;
    return options_.diff && result.changed() ? 2 : 0;
  }

  static bool ikev2_rules(const compiler::Plan& plan) {
    return std::any_of(plan.ikes.begin(), plan.ikes.end(),
                       [](const compiler::IkeEntry& r) { return r.version == IkeVersion::V2; });
  }

  bool show() {
    output::ShowOptions o;
    o.flows = *options_.show != cli::ShowWhat::Sas;
    o.sas = *options_.show != cli::ShowWhat::Flows;
    o.titles = *options_.show == cli::ShowWhat::All;
    o.verbose = options_.verbose;
    o.show_keys = options_.show_keys;
    o.collapse = options_.collapse;
    auto kernel = session_.kernel_snapshot(o.flows, o.sas);
    if (!kernel) return false;
    // On Linux the IKE SAs live in the daemon: `-s all` lists them too,
    // and flows the daemon installed show its identities.
    std::optional<backends::IkeSnapshot> ike;
    const bool prometheus = options_.format == cli::Format::Prometheus;
    if (o.titles || o.flows || prometheus) ike = session_.ike_snapshot();
    const backends::IkeSnapshot* daemon = ike ? &*ike : nullptr;
    const std::string text =
        prometheus ? output::render_show_prometheus(*kernel, daemon, session_.load_times())
        : options_.format == cli::Format::Json ? output::render_show_json(*kernel, daemon, o)
                            : output::render_show_text(*kernel, daemon, o, resolver_);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return true;
  }

  bool monitor() {
    std::fflush(stdout);
    const std::string wire = session_.kernel_name();
    return session_.watch([&](const backends::MonitorEvent& event) {
      const std::string text =
          options_.format == cli::Format::Json
              ? output::render_event_json(event, options_.verbose > 0)
                        : output::render_event_text(event, options_.verbose, wire, resolver_);
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
      return true;
    });
  }

  const cli::Options& options_;
  Diagnostics diagnostics_;
  compiler::SystemResolver resolver_;
  engine::Session session_;
};

}  // namespace

int main(int argc, char** argv) {
  if (!::isatty(STDOUT_FILENO))
    std::setvbuf(stdout, g_stdout_buffer, _IOFBF, sizeof g_stdout_buffer);
  // A reader that goes away (isakmpd's fifo, a closed pipe) is an error to
  // report, never a silent death.
  std::signal(SIGPIPE, SIG_IGN);
  auto options = ipsecctl::cli::parse_options(argc, argv);
  if (!options) return 1;
  if (options->help) {
    ipsecctl::cli::print_help();
    return 0;
  }
  if (options->version) {
    std::printf("ipsecctl %s\n", IPSECCTL_VERSION);
    return 0;
  }
  int status;
  try {
    status = Run(*options)();
  } catch (const ipsecctl::FatalError& fatal) {
    std::fflush(stdout);
    std::fprintf(stderr, "ipsecctl: %s\n", fatal.what());
    status = 1;
  }
  std::fflush(stdout);
  return status;
}
