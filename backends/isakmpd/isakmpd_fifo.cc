#include "backends/isakmpd/isakmpd_fifo.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <map>
#include <set>

#include "common/unique_fd.h"
#include "compiler/ike_policy.h"
#include "compiler/isakmpd_commands.h"

namespace ipsecctl::backends {

namespace {

std::string errno_text() { return std::strerror(errno); }

}  // namespace

bool IsakmpdFifoBackend::present(const std::string& fifo) {
  struct stat st;
  return ::stat(fifo.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
}

bool IsakmpdFifoBackend::apply(const compiler::Plan& plan, Action action, const SyncScope& scope,
                               const LoadSettings& settings, BackendChanges& changes) {
  changes.backend = name();
  if (plan.has_iked()) {
    // iked.conf is IKEv2; isakmpd speaks IKEv1 only.
    diag_.failure("isakmpd speaks IKEv1 only and cannot take iked.conf's IKEv2 policies; "
                  "load them into strongSwan's charon (--ike vici)");
    return false;
  }
  ChangeCounts& counted = changes.counts[kRules];
  auto note = [&](ChangeVerb verb, const std::string& rule) {
    counted.count(verb);
    if (settings.list_changes) changes.entries.push_back({verb, {}, {}, {}, "rule", rule});
  };
  std::map<std::string, std::uint64_t> recorded;
  if (scope.previous != nullptr)
    for (const OwnedEntry* e : scope.previous->of(OwnedKind::IsakmpdRule)) recorded[e->key] = e->digest;
  // All commands first: a rule the generator refuses stops everything
  // before a byte reaches the daemon.
  std::string text;
  bool refused = false;
  std::set<std::string> names;
  OwnedEntries now;
  for (const compiler::IkeEntry& rule : plan.ikes) {
    if (rule.version == IkeVersion::V2) {
      diag_.error_at(rule.origin, "isakmpd speaks only IKEv1, and this rule is IKEv2",
                     "load IKEv2 rules into strongSwan's charon (--ike vici), or make the rule "
                     "IKEv1 (ipsecctl_ike_version = \"1\", the default)");
      refused = true;
      continue;
    }
    auto commands = action == Action::Add ? compiler::isakmpd_add_commands(rule)
                                          : compiler::isakmpd_delete_commands(rule);
    if (commands.error) {
      diag_.error_at(rule.origin, *commands.error);
      refused = true;
      continue;
    }
    text += commands.text;
    const std::string name = compiler::ike_policy(rule).names.phase2;
    if (!names.insert(name).second) continue;
    const std::uint64_t digest = digest_bytes(commands.text.data(), commands.text.size());
    auto was = recorded.find(name);
    if (action == Action::Delete) note(ChangeVerb::Remove, name);
    else if (was == recorded.end()) note(ChangeVerb::Add, name);
    else if (was->second != digest) note(ChangeVerb::Change, name);
    else ++counted.unchanged;
    if (action == Action::Add)
      now.add({OwnedKind::IsakmpdRule, name, digest, compiler::isakmpd_delete_commands(rule).text});
  }
  if (refused) {
    diag_.failure("nothing was sent to isakmpd");
    return false;
  }
  // Rules an earlier load of the file configured and the file no longer
  // has are torn down first, with the commands recorded for them.
  std::string stale;
  if (scope.previous != nullptr) {
    std::set<std::string> claimed;
    if (scope.others != nullptr)
      for (const OwnedEntry* e : scope.others->of(OwnedKind::IsakmpdRule)) claimed.insert(e->key);
    for (const OwnedEntry* e : scope.previous->of(OwnedKind::IsakmpdRule))
      if (names.count(e->key) == 0 && claimed.count(e->key) == 0) {
        stale += e->payload;
        note(ChangeVerb::Remove, e->key);
      }
  }
  if (settings.dry_run) return true;
  if (!send(stale + text)) return false;
  if (scope.now != nullptr)
    for (auto& e : now.entries) scope.now->add(std::move(e));
  return true;
}

bool IsakmpdFifoBackend::remove_owned(const OwnedEntries& owned) {
  std::string text;
  for (const OwnedEntry* e : owned.of(OwnedKind::IsakmpdRule)) text += e->payload;
  return send(text);
}

bool IsakmpdFifoBackend::wait_for_tunnels(std::chrono::seconds) {
  diag_.note("--wait: isakmpd cannot be asked over its fifo whether tunnels are up; not waiting");
  return true;
}

bool IsakmpdFifoBackend::send(const std::string& text) {
  if (text.empty()) return true;
  const auto deadline = std::chrono::steady_clock::now() + patience_;
  int fd = -1;
  for (;;) {
    fd = ::open(fifo_.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) break;
    if (errno != ENXIO) {  // ENXIO: a fifo nobody reads (yet)
      diag_.failure("ike_ipsec_establish: open(" + fifo_ + "): " + errno_text());
      return false;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      diag_.failure("no isakmpd is reading " + fifo_ + " (waited " +
                 std::to_string(patience_.count()) + " ms); nothing was sent");
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  UniqueFd owned(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    diag_.failure("ike_ipsec_establish: fstat(" + fifo_ + "): " + errno_text());
    return false;
  }
  if (!S_ISFIFO(st.st_mode)) {
    diag_.failure("ike_ipsec_establish: " + fifo_ + " not a fifo");
    return false;
  }
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      diag_.failure("writing to " + fifo_ + " failed after " + std::to_string(done) + " of " +
                 std::to_string(text.size()) + " bytes: " + errno_text());
      return false;
    }
    // The daemon reads at its own pace; give up only when it makes no
    // progress for a whole period of patience.
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(patience_.count())) <= 0) {
      diag_.failure("isakmpd stopped reading " + fifo_ + " after " + std::to_string(done) + " of " +
                 std::to_string(text.size()) + " bytes");
      return false;
    }
  }
  return true;
}

}  // namespace ipsecctl::backends
