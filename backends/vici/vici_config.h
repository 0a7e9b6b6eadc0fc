// ike rules in strongSwan's model (what VICI's load-conn and load-shared
// take). What a rule means (algorithms, defaults, lifetimes, names,
// identities, IKE version) is compiler/ike_policy's decision; this file
// only writes it in charon's words. Rules with the same phase 1 (peer and
// local address, as isakmpd names it) become one connection with one
// child per rule, so a brace list of networks gives one IKE SA with
// several child SAs.
//
// Keyword by keyword (also in the README):
//   active          charon starts the tunnel on load (ipsecctl asks once)
//                   and keeps trap policies: traffic restarts it whenever
//                   it is down; keyingtries 0 (retry for as long as the
//                   connection is loaded)
//   dynamic         the same, plus DPD every 5 s and restart on DPD or
//                   on the peer's close
//   passive         answers only
//   esp | ah, tunnel|transport  esp_proposals | ah_proposals, child mode
//   from/to (proto, ports)      child local_ts / remote_ts (net[proto/port])
//   local, peer                 local_addrs, remote_addrs (none: %any)
//   rule's IKE version          version 1 | 2 | 0 (any)
//   main | aggressive           aggressive = no | yes (IKEv1 only)
//   main auth/enc/group         IKE proposal enc-integ-group (an IKEv2
//                               AEAD cipher: enc-prfX-group)
//   quick auth/enc/group        child proposal (group none: no PFS)
//   lifetime (main, quick)      IKEv1: hard lifetimes on the wire, IKE
//                               reauth 90% plus over_time 10%; IKEv2: the
//                               IKE SA rekeyed in place at 85-90%, hard at
//                               100%; child life_time, rekey at 90%
//   srcid / dstid               local / remote IKE identity
//   psk "secret"                a shared IKE secret owned by the peer's
//                               address and dstid (never by the local
//                               identity, which every secret would share:
//                               charon would pick the first)
//   interface secN              if_id_in/out N (XFRM interface); IKEv2:
//                               0.0.0.0/0 and ::/0 as selectors
//   tag NAME                    ignored with a warning (no PF on Linux)
// Refused with a message naming the rule: NAT hosts, sec0 (if_id 0 means
// none), an active rule without a peer, hmac-ripemd160 (strongSwan has no
// such ESP integrity algorithm).
//
// Two gateways that both initiate end with two IKE SAs (or one with two
// pairs of child SAs) in IKEv1: one side of each pair starts the tunnel
// when it loads, the other yields. The yielding side starts a connection
// only when charon did not have it before and the peer stays silent for a
// moment (the peer that loaded first was turned away while this side had
// nothing, and charon does not retry a refused proposal); otherwise it
// answers, or starts when its own traffic asks (trap), as when a standby
// takes over while the peer still believes the old master there. The
// first side also replaces duplicate IKE SAs that still happen (unique =
// replace), while the other replaces only for a peer that starts afresh
// (unique = no), so both agree on the survivor. Which side is which must
// come out the same on both without talking: the traffic selectors do
// (each side's local networks are the other's remote ones), where
// addresses do not (behind a NAT, a hub's own address is not the one its
// peers know). The side whose local networks sort first starts; the
// addresses decide only between mirror images of one network.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/keys/key_directory.h"
#include "backends/vici/vici_message.h"
#include "common/diagnostics.h"
#include "compiler/address.h"
#include "compiler/plan.h"

namespace ipsecctl::backends::vici {

// What charon calls a rule's parts: isakmpd's names (the connection is
// the phase 1, "peer-192.0.2.1", a child the phase 2,
// "from-10.1.0.0/24-to-10.2.0.0/24"), spelt so that swanctl.conf can
// hold them (no '.', ':' or '=' in its section names): "peer-192_0_2_1",
// "from-10_1_0_0/24-to-10_2_0_0/24", a protocol and port as
// "from-10_1_0_1[17/53]-...". So the swanctl.conf ipsecctl writes
// (--format swanctl) gives charon the very names a load gives it.
struct CharonNames {
  std::string connection;
  std::string child;
};
CharonNames charon_names(const compiler::IkeEntry& rule);

struct ViciSecret {
  // "ike-ipsecctl-<connection>" (swanctl's name for an IKE secret); the
  // backend adds a generation ("~2") so that a changed secret is loaded
  // beside the old one and the old one goes only once the whole load
  // succeeded.
  std::string base_id;
  ViciSection body;  // type, data, owners (load-shared without the id)
  std::uint64_t digest = 0;
};

// This host's private key, which charon signs with for the rules without
// psk (load-key); loaded once for all of them.
struct ViciPrivateKey {
  std::string path;  // the file it came from (private/local.key)
  std::string type;  // load-key's type: rsa or ecdsa
  std::string pem;
  std::uint64_t digest = 0;  // of the PEM text
};

// An address pool the connection hands out virtual addresses from (and
// the configuration attributes that go with them): load-pool's message.
struct ViciPool {
  std::string name;
  ViciSection body;  // { name { addrs, dns, ... } }
  std::uint64_t digest = 0;
};

struct ViciChild {
  std::string name;  // CharonNames::child
  bool start = false;  // active or dynamic: initiated once after loading
  std::optional<unsigned> if_id;
  SourceLocation origin;
};

struct ViciConnection {
  std::string name;       // CharonNames::connection, e.g. peer-192_0_2_1
  IkeVersion version = IkeVersion::V1;
  ViciSection load_conn;  // { name { ... } }
  std::uint64_t digest = 0;  // of the encoded load_conn message
  std::optional<ViciSecret> secret;
  std::vector<ViciPool> pools;      // iked.conf's `config address ...`
  // iked.conf's `user NAME PASSWORD`: EAP secrets, each under its own id
  // ("eap-ipsecctl-NAME"), carried by the file's first connection.
  std::vector<ViciSecret> user_secrets;
  std::vector<ViciChild> children;  // in rule order
  std::string peer;                 // remote address, "%any" when none
  std::optional<compiler::IpAddress> remote;  // the same, when there is one
  // The local address the rules name (`local`), if any: a standby of a
  // failover pair loads rules for an address it does not hold yet, and
  // starts them only once it does.
  std::optional<compiler::IpAddress> local;
  // The side of the pair that yields (see above and vici_backend.cc).
  bool defer_start = false;
  SourceLocation origin;            // its first rule
  // Rules without psk: the private key they sign with, and where each key
  // or certificate the message carries (PEM, as load-conn takes it) came
  // from, for swanctl.conf, which names files.
  std::shared_ptr<const ViciPrivateKey> private_key;
  std::map<std::string, std::string> key_files;  // PEM text -> its path
};

// The address this host would send from to reach a peer (a route lookup,
// no packet sent); nullopt when there is no route.
using SourceAddressLookup =
    std::function<std::optional<compiler::IpAddress>(const compiler::IpAddress& peer)>;

// The if_id of the XFRM interface of that name; nullopt when there is no
// such XFRM interface (iked.conf's `iface`).
using InterfaceIdLookup = std::function<std::optional<std::uint32_t>(const std::string& name)>;

// Returns nullopt after reporting every rule strongSwan cannot express.
// Rules without psk take their keys from `keys` (isakmpd's layout, see
// backends/keys/key_directory.h); without it they get `auth pubkey` and
// no key (unit tests that are not about keys).
std::optional<std::vector<ViciConnection>> translate(const compiler::Plan& plan,
                                                     Diagnostics& diagnostics,
                                                     const SourceAddressLookup& source_for = {},
                                                     keys::KeyDirectory* keys = nullptr,
                                                     const InterfaceIdLookup& if_ids = {});

}  // namespace ipsecctl::backends::vici
