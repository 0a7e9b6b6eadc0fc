// The reload property: a reload is a sync, and --diff predicts it.
//
// For each of N random edit sequences (tests/property/config_world: two
// top files, each with macros and two included files; flows, manual SAs
// and, with a daemon, ike rules; rules added, removed, changed, moved
// between files and reordered, macros changed, SAs rekeyed), every load of
// an edited file into the live namespace (and daemon) is checked:
//   1. --diff before it names exactly the changes the load then reports;
//   2. the kernel's (and the daemon's) change from before to after the
//      load is exactly those changes;
//   3. the kernel and the daemon then hold exactly what a fresh load of the
//      same files gives an emptied second namespace and a second daemon;
// and at the end of each sequence -d -f of both files leaves both empty.
// Loads go through Session::load, the path `ipsecctl -f` takes, in this
// process (setns between the two namespaces), so that 10,000 sequences
// take minutes, not hours.
//
// usage: reload_property --kernel xfrm|pfkey --live NETNS --fresh NETNS
//          --work DIR [--sequences N] [--steps K] [--seed S] [--no-sas]
//          [--live-vici SOCKET --fresh-vici SOCKET [--live-log LOG --fresh-log LOG]]
//          [--verbose]
// NETNS are names under /run/netns (made and removed by the caller).
// Prints one line per 1,000 sequences and a summary; exits 1 at the first
// sequence that breaks the property, with the files and what differed.
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>

#include "common/unique_fd.h"
#include "compiler/resolver.h"
#include "engine/session.h"
#include "tests/captured_stream.h"
#include "tests/property/charon_view.h"
#include "tests/property/config_world.h"
#include "tests/property/kernel_view.h"

namespace ipsecctl::property {
namespace {

struct Options {
  std::string kernel = "xfrm";
  std::string live, fresh, work;
  std::string live_vici, fresh_vici;
  std::string live_log, fresh_log;  // charon's logs at cfg level 2
  long sequences = 100;
  int steps = 4;
  std::uint64_t seed = 1;
  bool sas = true;
  bool verbose = false;  // each step and its files, as it goes
};

// Diagnostics into memory: shown only when a check fails.
class CapturedDiagnostics {
 public:
  CapturedDiagnostics() : diag_(stream_.get()) {}
  Diagnostics& get() { return diag_; }
  std::string text() { return stream_.text(); }

 private:
  testing::CapturedStream stream_;
  Diagnostics diag_;
};

// Where the time goes, per phase, printed with the summary: the guest
// (TCG) runs these tens of times slower than the host.
class PhaseClock {
 public:
  void start() { begun_ = std::chrono::steady_clock::now(); }
  void stop(const char* phase) {
    totals_[phase] += std::chrono::steady_clock::now() - begun_;
  }
  std::string summary() const {
    std::string s;
    for (const auto& [phase, total] : totals_) {
      char line[96];
      std::snprintf(line, sizeof line, "  %-22s %8.1f s\n", phase.c_str(),
                    std::chrono::duration<double>(total).count());
      s += line;
    }
    return s;
  }

 private:
  std::chrono::steady_clock::time_point begun_;
  std::map<std::string, std::chrono::steady_clock::duration> totals_;
};

class PropertyBroken : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One side: a namespace and, with ike rules, its charon.
struct Side {
  std::string name;
  UniqueFd netns;
  std::string vici;
  std::unique_ptr<CharonSettingsLog> log;  // when charon's log was named
};

class Runner {
 public:
  explicit Runner(const Options& o) : o_(o) {
    live_ = open_side("live", o.live, o.live_vici, o.live_log);
    fresh_ = open_side("fresh", o.fresh, o.fresh_vici, o.fresh_log);
  }

  void run() {
    const auto started = std::chrono::steady_clock::now();
    long loads = 0;
    for (long i = 0; i < o_.sequences; ++i) {
      loads += sequence(o_.seed + static_cast<std::uint64_t>(i));
      if ((i + 1) % 1000 == 0 || i + 1 == o_.sequences) {
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                       started).count();
        std::printf("%ld sequences, %ld checked loads, %.1f s\n", i + 1, loads, s);
        std::fflush(stdout);
      }
    }
    std::printf("time by phase:\n%s", clock_.summary().c_str());
  }

 private:
  Side open_side(const std::string& name, const std::string& netns, const std::string& vici,
                 const std::string& log) {
    const std::string path = "/run/netns/" + netns;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    return Side{name, std::move(fd), vici,
                log.empty() ? nullptr : std::make_unique<CharonSettingsLog>(log)};
  }

  void enter(const Side& side) {
    if (::setns(side.netns.get(), CLONE_NEWNET) != 0)
      throw std::runtime_error("setns " + side.name + ": " + std::strerror(errno));
  }

  engine::SessionOptions session_options(const Side& side) const {
    engine::SessionOptions s;
    s.kernel = o_.kernel;
    if (side.vici.empty()) {
      s.ike = "auto";
      s.endpoints.vici = o_.work + "/no-charon.vici";  // nothing answers there
    } else {
      s.ike = "vici";
      s.endpoints.vici = side.vici;
    }
    return s;
  }

  // One load (or --diff, or -d -f) through Session::load.
  engine::LoadResult load(const Side& side, const std::string& path, engine::LoadMode mode,
                          backends::Action action, std::string& messages) {
    CapturedDiagnostics diag;
    compiler::SystemResolver resolver;
    engine::Session session(session_options(side), diag.get(), resolver);
    engine::LoadRequest request;
    request.compile.path = path;
    request.action = action;
    request.mode = mode;
    request.list_changes = true;
    engine::LoadResult result;
    session.load(request, result);
    messages = diag.text();
    return result;
  }

  KernelView kernel(const Side& side) {
    CapturedDiagnostics diag;
    compiler::SystemResolver resolver;
    engine::Session session(session_options(side), diag.get(), resolver);
    auto snapshot = session.kernel_snapshot(true, true);
    if (!snapshot) throw std::runtime_error(side.name + ": no kernel snapshot: " + diag.text());
    return view_of(*snapshot);
  }

  std::optional<CharonView> daemon(const Side& side) {
    if (side.vici.empty()) return std::nullopt;
    return charon_view(side.vici, side.log.get());
  }

  bool flush(const Side& side) {
    CapturedDiagnostics diag;
    compiler::SystemResolver resolver;
    engine::Session session(session_options(side), diag.get(), resolver);
    if (!session.flush()) throw std::runtime_error(side.name + ": flush failed: " + diag.text());
    return true;
  }

  // The kernel's changes (i == 0) or the daemon's (i == 1).
  static std::set<std::string> lines(const engine::LoadResult& r, std::size_t i) {
    for (const backends::BackendChanges& c : r.changes) {
      const bool kernel = c.backend == "XFRM" || c.backend == "PF_KEY";
      if (kernel != (i == 0)) continue;
      return kernel ? change_lines(c) : daemon_change_lines(c);
    }
    return {};
  }

  void expect(bool holds, const std::string& what, const std::string& detail) {
    if (holds) return;
    throw PropertyBroken(what + "\n" + detail);
  }

  // What a side holds: its kernel and, with a daemon, charon.
  struct Held {
    KernelView kernel;
    std::optional<CharonView> daemon;
  };
  Held held(const Side& side) { return Held{kernel(side), daemon(side)}; }

  template <typename F>
  auto timed(const char* phase, F&& f) {
    clock_.start();
    auto result = f();
    clock_.stop(phase);
    return result;
  }

  // What changed (from before and after) is what the load reported.
  void expect_as_reported(const std::string& what, const std::set<std::string>& changed,
                          const std::set<std::string>& said, const std::string& step,
                          const std::string& listing) {
    expect(changed == said, step + ": " + what + " changed otherwise than reported",
           "changed, not reported:\n" + difference(changed, said) +
               "reported, not changed:\n" + difference(said, changed) + listing);
  }

  // Loads group `g` of the world into the live side and checks the
  // property.
  void checked_load(ConfigWorld& world, int g, const std::string& step) {
    const std::string path = world.write(o_.work, g);
    if (o_.verbose) std::printf("== %s\n%s", step.c_str(), world.listing(g).c_str());
    enter(live_);
    std::string messages;
    const engine::LoadResult predicted = timed("--diff", [&] {
      return load(live_, path, engine::LoadMode::Diff, backends::Action::Add, messages);
    });
    expect(predicted.ok, step + ": --diff failed", messages + world.listing(g));
    const Held before = timed("snapshots", [&] { return held(live_); });
    const engine::LoadResult done = timed("reload", [&] {
      return load(live_, path, engine::LoadMode::Load, backends::Action::Add, messages);
    });
    expect(done.ok, step + ": the load failed", messages + world.listing(g));
    const Held after = timed("snapshots", [&] { return held(live_); });

    for (std::size_t i = 0; i < 2; ++i) {
      const auto said = lines(done, i), foretold = lines(predicted, i);
      expect(said == foretold, step + ": --diff foretold other changes than the load made",
             "only foretold:\n" + difference(foretold, said) + "only made:\n" +
                 difference(said, foretold) + world.listing(g));
    }
    expect_as_reported("the kernel", change_lines(before.kernel, after.kernel), lines(done, 0),
                       step, world.listing(g));
    if (before.daemon && after.daemon)
      expect_as_reported("charon", change_lines(*before.daemon, *after.daemon), lines(done, 1),
                         step, world.listing(g));

    // The same files, loaded fresh.
    enter(fresh_);
    timed("fresh: flush", [&] { return flush(fresh_); });
    loaded_.insert(g);
    timed("fresh: loads", [&] {
      for (int group : loaded_) {
        const engine::LoadResult fresh =
            load(fresh_, o_.work + "/" + world.top_file_name(group), engine::LoadMode::Load,
                 backends::Action::Add, messages);
        expect(fresh.ok, step + ": a fresh load failed", messages + world.listing(group));
      }
      return true;
    });
    const Held fresh = timed("snapshots", [&] { return held(fresh_); });
    expect(fresh.kernel == after.kernel,
           step + ": the reload left another kernel than a fresh load",
           "live only:\n" + difference(after.kernel, fresh.kernel) + "fresh only:\n" +
               difference(fresh.kernel, after.kernel) + world.listing(0) + world.listing(1));
    if (fresh.daemon && after.daemon) {
      const std::string diff =
          difference(*after.daemon, *fresh.daemon) + difference(*fresh.daemon, *after.daemon);
      expect(diff.empty(), step + ": the reload left charon otherwise than a fresh load",
             "live vs fresh:\n" + diff + world.listing(0) + world.listing(1));
    }
  }

  long sequence(std::uint64_t seed) {
    WorldOptions wo;
    wo.sas = o_.sas;
    wo.ikes = !live_.vici.empty();
    if (o_.kernel == "pfkey") wo.auths = {"hmac-sha1", "hmac-md5", "hmac-ripemd160"};
    ConfigWorld world(seed, wo);
    world.populate();
    enter(live_);
    flush(live_);
    loaded_.clear();
    long loads = 0;
    std::string at = "sequence " + std::to_string(seed);
    {
      for (int g = 0; g < 2; ++g, ++loads) checked_load(world, g, at + ", first load of group " +
                                                                     std::to_string(g));
      for (int k = 0; k < o_.steps; ++k, ++loads) {
        int g = 0;
        const std::string what = world.edit(g);
        checked_load(world, g, at + ", step " + std::to_string(k + 1) + " (" + what + ")");
      }
      // -d -f of each file takes out all it put in.
      enter(live_);
      std::string messages;
      for (int g = 0; g < 2; ++g) {
        const auto r = load(live_, o_.work + "/" + world.top_file_name(g),
                            engine::LoadMode::Load, backends::Action::Delete, messages);
        expect(r.ok, at + ": -d -f failed", messages + world.listing(g));
      }
      const KernelView left = kernel(live_);
      expect(left.empty(), at + ": -d -f of both files left entries in the kernel",
             difference(left, {}));
      if (const auto d = daemon(live_))
        expect(d->connections.empty() && d->secrets.empty(),
               at + ": -d -f of both files left entries in charon", difference(*d, {}));
    }
    return loads;
  }

  Options o_;
  PhaseClock clock_;
  Side live_, fresh_;
  std::set<int> loaded_;  // the groups loaded into the live side so far
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " wants a value");
      return argv[++i];
    };
    if (a == "--kernel") o.kernel = next();
    else if (a == "--live") o.live = next();
    else if (a == "--fresh") o.fresh = next();
    else if (a == "--work") o.work = next();
    else if (a == "--live-vici") o.live_vici = next();
    else if (a == "--fresh-vici") o.fresh_vici = next();
    else if (a == "--live-log") o.live_log = next();
    else if (a == "--fresh-log") o.fresh_log = next();
    else if (a == "--sequences") o.sequences = std::stol(next());
    else if (a == "--steps") o.steps = std::stoi(next());
    else if (a == "--seed") o.seed = std::stoull(next());
    else if (a == "--no-sas") o.sas = false;
    else if (a == "--verbose") o.verbose = true;
    else throw std::runtime_error("unknown option " + a);
  }
  if (o.live.empty() || o.fresh.empty() || o.work.empty())
    throw std::runtime_error("--live, --fresh and --work are required");
  if (o.live_vici.empty() != o.fresh_vici.empty())
    throw std::runtime_error("--live-vici and --fresh-vici go together");
  return o;
}

}  // namespace
}  // namespace ipsecctl::property

int main(int argc, char** argv) {
  using namespace ipsecctl::property;
  try {
    const Options o = parse(argc, argv);
    ::setenv("IPSECCTL_STATE_DIR", (o.work + "/state").c_str(), 1);
    std::printf("reload property: %s, %ld sequences of %d edits, seed %llu%s%s\n",
                o.kernel.c_str(), o.sequences, o.steps,
                static_cast<unsigned long long>(o.seed), o.sas ? ", manual SAs" : "",
                o.live_vici.empty() ? "" : ", ike rules with charon");
    Runner runner(o);
    runner.run();
    std::printf("the property held\n");
    return 0;
  } catch (const PropertyBroken& broken) {
    std::printf("FAIL %s\n", broken.what());
    return 1;
  } catch (const std::exception& e) {
    std::printf("FAIL reload_property: %s\n", e.what());
    return 1;
  }
}
