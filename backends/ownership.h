// What one configuration file has put in place, so that reloading it is a
// sync: what an earlier load of the same file added and the file no longer
// has is taken out again, and nothing that another file or another program
// put there is ever touched.
//
// Kernel entries are known by the fingerprints the kernel backend compares
// dumps with (identity: selector+direction or destination+SPI+protocol;
// content: everything else), so that an entry somebody changed since is
// recognised as no longer ours. Daemon entries are known by name and by a
// digest of what was sent, plus, where the daemon needs it to take an entry
// back or restore it, the message itself (never a secret: PSKs are not
// kept).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ipsecctl::backends {

enum class OwnedKind : std::uint8_t {
  Policy,          // a kernel SPD entry
  State,           // a kernel SAD entry
  ViciConnection,  // charon: a connection loaded with load-conn
  ViciSecret,      // charon: a shared secret loaded with load-shared
  IsakmpdRule,     // isakmpd: the configuration of one ike rule
  ViciKey,         // charon: a private key loaded with load-key (by its id)
  ViciPool,        // charon: an address pool loaded with load-pool (by name)
};

// Each kind's word in a record file, and back (nullopt: no such word).
const char* owned_kind_word(OwnedKind kind);
std::optional<OwnedKind> owned_kind_from_word(std::string_view word);

// A kernel entry: fingerprints only, 32 bytes, since a file may hold
// 100,000 flows.
struct OwnedKernelEntry {
  OwnedKind kind = OwnedKind::Policy;  // Policy or State
  std::uint64_t identity_hi = 0, identity_lo = 0;
  std::uint64_t digest = 0;  // of the content as it was put in place
  friend bool operator==(const OwnedKernelEntry&, const OwnedKernelEntry&) = default;
};

// A daemon entry.
struct OwnedEntry {
  OwnedKind kind = OwnedKind::ViciConnection;
  std::string key;  // the connection, secret or phase 2 name
  // A digest of the content as it was put in place.
  std::uint64_t digest = 0;
  // What the daemon needs to restore the entry (VICI: the encoded
  // load-conn message, hex) or to take it back (isakmpd: the teardown
  // commands). Empty for secrets.
  std::string payload;
  friend bool operator==(const OwnedEntry&, const OwnedEntry&) = default;
};

struct OwnedEntries {
  std::vector<OwnedKernelEntry> kernel;
  std::vector<OwnedEntry> entries;  // daemon entries

  bool empty() const { return kernel.empty() && entries.empty(); }
  friend bool operator==(const OwnedEntries&, const OwnedEntries&) = default;
  void add(OwnedEntry e) { entries.push_back(std::move(e)); }
  void add(const OwnedKernelEntry& e) { kernel.push_back(e); }
  // The daemon entries of one kind.
  std::vector<const OwnedEntry*> of(OwnedKind kind) const {
    std::vector<const OwnedEntry*> out;
    for (const auto& e : entries)
      if (e.kind == kind) out.push_back(&e);
    return out;
  }
};

// What a load or removal is to keep in step with.
struct SyncScope {
  // What an earlier load of the same file put in place (none: first load).
  const OwnedEntries* previous = nullptr;
  // What other files claim: never removed on this file's behalf.
  const OwnedEntries* others = nullptr;
  // Filled by a successful apply(): what the file owns afterwards, for
  // the part this backend is responsible for.
  OwnedEntries* now = nullptr;
  // Where given, set instead by the kernel backend when the file owns
  // exactly the kernel entries `previous` lists, in its order (an
  // unchanged reload): they are not copied into `now`, 10^5 of them being
  // 10 MB.
  bool* kernel_as_before = nullptr;
};

// FNV-1a, 64 bits: digests of messages that stay equal from one run (and
// one version) to the next.
inline std::uint64_t digest_bytes(const void* data, std::size_t size,
                                  std::uint64_t seed = 0xcbf29ce484222325ULL) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint64_t h = seed;
  for (std::size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace ipsecctl::backends
