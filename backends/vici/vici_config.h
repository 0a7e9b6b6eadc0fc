// ike rules in strongSwan's model (what VICI's load-conn and load-shared
// take). Rules with the same phase 1 (peer and local address, as isakmpd
// names it) become one IKEv1 connection with one child per rule, so a
// brace list of networks gives one IKE SA with several child SAs.
//
// Keyword by keyword (also in the README):
//   active / dynamic / passive  initiated by ipsecctl after loading / the
//                               same, plus DPD with restart / only answers
//   esp | ah, tunnel|transport  esp_proposals | ah_proposals, child mode
//   from/to (proto, ports)      child local_ts / remote_ts (net[proto/port])
//   local, peer                 local_addrs, remote_addrs (none: %any)
//   main | aggressive           version 1, aggressive = no | yes
//   main auth/enc/group         IKE proposal enc-integ-group (isakmpd's
//                               defaults: aes128-sha1-modp3072)
//   quick auth/enc/group        child proposal (defaults aes128-sha256-
//                               modp3072; group none: no PFS)
//   lifetime (main, quick)      hard lifetimes on the wire: IKE reauth 90%
//                               plus over_time 10%; child life_time, rekey
//                               at 90% (defaults 3600 s and 1200 s)
//   srcid / dstid               local / remote IKE identity
//   psk "secret"                a shared IKE secret owned by both
//                               identities and addresses
//   interface secN              if_id_in/out N (XFRM interface)
// Refused with a message naming the rule: tag (no PF on Linux), NAT
// hosts, sec0 (if_id 0 means none), an active rule without a peer,
// hmac-ripemd160 (strongSwan has no such ESP integrity algorithm).
#pragma once

#include <string>
#include <vector>

#include "backends/vici/vici_message.h"
#include "compiler/plan.h"
#include "common/diagnostics.h"

namespace ipsecctl::backends::vici {

struct ViciConnection {
  std::string name;                  // isakmpd's phase 1 name, e.g. peer-192.0.2.1
  ViciSection load_conn;             // { name { ... } }
  bool has_secret = false;
  ViciSection load_shared;
  std::string secret_id;
  std::vector<std::string> children;           // every child, in rule order
  std::vector<std::string> children_to_start;  // active and dynamic ones
  SourceLocation origin;                       // its first rule
};

// Returns nullopt after reporting every rule strongSwan cannot express.
std::optional<std::vector<ViciConnection>> translate(const compiler::Plan& plan,
                                                     Diagnostics& diagnostics);

}  // namespace ipsecctl::backends::vici
