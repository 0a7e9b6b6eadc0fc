// ipsecctl: options, dispatch, exit status. Everything else lives in the
// parser, compiler and backends libraries.
//
// Order of work, as on OpenBSD: -F flush, then -f load (or -d remove),
// then -s show, then -m monitor.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "backends/isakmpd/isakmpd_fifo.h"
#include "backends/kernel/kernel_channel.h"
#include "backends/make_backend.h"
#include "backends/vici/vici_backend.h"
#include "cli/options.h"
#include "compiler/compile_config.h"
#include "compiler/resolver.h"
#include "common/diagnostics.h"

namespace {

using namespace ipsecctl;

// stdout is buffered like OpenBSD's stdio on a pipe, so diagnostics on
// (unbuffered) stderr come first when both go to one pipe.
char g_stdout_buffer[16384];

class Run {
 public:
  explicit Run(const cli::Options& options) : options_(options) {}

  int operator()() {
    int status = 0;
    if (options_.flush && !options_.no_action && !kernel_backend()->flush()) status = 1;
    if (options_.file && !load()) status = 1;
    if (options_.show && !show()) status = 1;
    if (options_.monitor) {
      std::fflush(stdout);
      if (!kernel_backend()->monitor(options_.verbose, stdout)) status = 1;
    }
    return status;
  }

 private:
  // Opened on first use, so -n never needs the kernel.
  backends::KernelBackend* kernel_backend() {
    if (!kernel_) kernel_ = backends::make_kernel_backend(options_.kernel, diagnostics_, resolver_);
    return kernel_.get();
  }

  bool load() {
    compiler::CompileRequest request;
    request.path = *options_.file;
    request.defines = options_.defines;
    request.print_rules = options_.verbose > 0 && !options_.show;
    request.print.rule_numbers = options_.verbose > 1;
    request.print.deleting = options_.deleting;
    request.print.show_keys = options_.show_keys;
    request.report_unused_macros = options_.verbose > 1;
    request.allow_static_aead = options_.allow_static_aead;
    auto result = compiler::compile_config(request, resolver_, diagnostics_);
    if (!result.ok()) {
      diagnostics_.note("Syntax error in config file: ipsec rules not loaded");
      return false;
    }
    if (options_.no_action || result.plan.empty()) return true;
    const auto action = options_.deleting ? backends::Action::Delete : backends::Action::Add;
    const char* nothing = options_.deleting ? "nothing was removed" : "nothing was loaded";
    // All or nothing across backends: the IKE daemon is found before the
    // kernel is touched, and the kernel part is undone if the daemon
    // then refuses its part.
    std::unique_ptr<backends::Backend> ike;
    if (!result.plan.ikes.empty()) {
      ike = ike_backend();
      if (!ike) {
        diagnostics_.note("the file has ike rules but no IKE daemon was found: " +
                          ike_daemons_looked_for() + "; " + nothing);
        return false;
      }
    }
    const bool kernel_part =
        !result.plan.flows.empty() || !result.plan.sas.empty() || !result.plan.bundles.empty();
    if (kernel_part && !kernel_backend()->apply(result.plan, action)) return false;
    if (ike && !ike->apply(result.plan, action)) {
      if (kernel_part) kernel_backend()->undo_last();
      return false;
    }
    return true;
  }

  // The IKE daemon that is there (charon answering on its VICI socket,
  // else isakmpd's fifo), or the one --ike names.
  std::unique_ptr<backends::Backend> ike_backend() {
    const bool any = options_.ike == "auto";
    if ((any || options_.ike == "vici") && backends::ViciBackend::present(options_.vici))
      return std::make_unique<backends::ViciBackend>(options_.vici, diagnostics_);
    if ((any || options_.ike == "isakmpd") && backends::IsakmpdFifoBackend::present(options_.fifo))
      return std::make_unique<backends::IsakmpdFifoBackend>(options_.fifo, diagnostics_);
    return nullptr;
  }

  std::string ike_daemons_looked_for() const {
    std::string vici = "charon does not answer on " + options_.vici + " (--vici PATH)";
    std::string fifo = "isakmpd's fifo " + options_.fifo + " does not exist (-i FIFO)";
    if (options_.ike == "vici") return vici;
    if (options_.ike == "isakmpd") return fifo;
    return vici + ", and " + fifo;
  }

  bool show() {
    backends::ShowRequest request;
    request.flows = *options_.show != cli::ShowWhat::Sas;
    request.sas = *options_.show != cli::ShowWhat::Flows;
    request.titles = *options_.show == cli::ShowWhat::All;
    request.verbose = options_.verbose;
    request.show_keys = options_.show_keys;
    request.collapse = options_.collapse;
    bool ok = kernel_backend()->show(request, stdout);
    // On Linux the IKE SAs live in charon: list them too when it answers.
    if (request.titles && options_.ike != "isakmpd" &&
        backends::ViciBackend::present(options_.vici)) {
      backends::ViciBackend vici(options_.vici, diagnostics_);
      ok = vici.show_ike_sas(stdout) && ok;
    }
    return ok;
  }

  const cli::Options& options_;
  Diagnostics diagnostics_;
  compiler::SystemResolver resolver_;
  std::unique_ptr<backends::KernelBackend> kernel_;
};

}  // namespace

int main(int argc, char** argv) {
  if (!::isatty(STDOUT_FILENO))
    std::setvbuf(stdout, g_stdout_buffer, _IOFBF, sizeof g_stdout_buffer);
  auto options = ipsecctl::cli::parse_options(argc, argv);
  if (!options) return 1;
  int status;
  try {
    status = Run(*options)();
  } catch (const ipsecctl::FatalError& fatal) {
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
