// ipsecctl: options, dispatch, exit status. The work is done by the
// libraries: compiler/ (the configuration), engine/ (the backends, all or
// nothing) and output/ (OpenBSD's text or JSON).
//
// Order of work, as on OpenBSD: -F flush, then -f load (or -d remove),
// then -s show, then -m monitor.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "backends/kernel/kernel_channel.h"
#include "cli/options.h"
#include "common/diagnostics.h"
#include "compiler/compile_config.h"
#include "compiler/resolver.h"
#include "engine/ownership_store.h"
#include "engine/session.h"
#include "output/json_render.h"
#include "output/rule_printer.h"
#include "output/show_text.h"

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
    if (options_.file && !load()) status = 1;
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
    s.endpoints.isakmpd_fifo = o.fifo;
    if (o.wait) s.wait = std::chrono::seconds(*o.wait);
    return s;
  }

  bool load() {
    output::PrintOptions print;
    print.rule_numbers = options_.verbose > 1;
    print.deleting = options_.deleting;
    print.show_keys = options_.show_keys;
    output::RulePrinter printer(stdout, resolver_, diagnostics_, print);
    // JSON wants stdout to itself: no -v text then.
    const bool print_rules = options_.verbose > 0 && !options_.show && !options_.json;

    compiler::CompileRequest request;
    request.path = *options_.file;
    request.defines = options_.defines;
    request.listener = print_rules ? &printer : nullptr;
    request.printing_adds = print_rules && !options_.deleting;
    request.report_unused_macros = options_.verbose > 1;
    request.allow_static_aead = options_.allow_static_aead;
    compiler::CompileResult result;
    if (!options_.no_action && !options_.deleting &&
        session_.may_stream(request.path, engine::OwnershipStore::source_of(*options_.file))) {
      auto compile = [&](compiler::RuleListener* streaming) {
        compiler::ListenerPair both(request.listener, streaming);
        compiler::CompileRequest streamed = request;
        streamed.listener = &both;
        compiler::compile_config(streamed, resolver_, diagnostics_, result);
        return result.ok();
      };
      switch (session_.load_while_compiling(result.plan, compile, request.path, request.defines,
                                            engine::OwnershipStore::source_of(*options_.file))) {
        case engine::Session::Streamed::Loaded: return true;
        case engine::Session::Streamed::LoadFailed: return false;
        case engine::Session::Streamed::CompileFailed: return compile_failed(result);
        case engine::Session::Streamed::Compiled: return apply(result);
        case engine::Session::Streamed::NotStarted: break;
      }
    }
    if (!options_.no_action && !options_.deleting &&
        !session_.prepare_apply(request.path, engine::OwnershipStore::source_of(*options_.file)))
      return false;
    compiler::compile_config(request, resolver_, diagnostics_, result);
    if (options_.json && options_.no_action) {
      output::PlanJsonOptions json;
      json.show_keys = options_.show_keys;
      json.ok = result.ok();
      const std::string text = output::render_plan_json(result.plan, diagnostics_, json);
      std::fwrite(text.data(), 1, text.size(), stdout);
    }
    if (!result.ok()) return compile_failed(result);
    if (options_.no_action) return true;
    return apply(result);
  }

  bool compile_failed(const compiler::CompileResult& result) {
    if (result.fatal) return false;  // OpenBSD exits there and then
    diagnostics_.failure("Syntax error in config file: ipsec rules not loaded");
    return false;
  }

  bool apply(const compiler::CompileResult& result) {
    return session_.apply(result.plan,
                          options_.deleting ? backends::Action::Delete : backends::Action::Add,
                          engine::OwnershipStore::source_of(*options_.file));
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
    if (o.titles || o.flows) ike = session_.ike_snapshot();
    const std::string text =
        options_.json ? output::render_show_json(*kernel, ike ? &*ike : nullptr, o)
                      : output::render_show_text(*kernel, ike ? &*ike : nullptr, o, resolver_);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return true;
  }

  bool monitor() {
    std::fflush(stdout);
    const std::string wire = session_.kernel_wire_name();
    return session_.watch([&](const backends::MonitorEvent& event) {
      const std::string text =
          options_.json ? output::render_event_json(event, options_.verbose > 0)
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
  } catch (const ipsecctl::backends::KernelError& error) {
    std::fflush(stdout);
    std::fprintf(stderr, "ipsecctl: %s\n", error.what());
    status = 1;
  }
  std::fflush(stdout);
  return status;
}
