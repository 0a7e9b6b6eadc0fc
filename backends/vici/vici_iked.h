// iked.conf(5)'s policies in strongSwan's model: one IKEv2 connection per
// policy, one child per flow, the proposals in iked's order.
//
//   ikev2 "name"            connection "name" (characters swanctl.conf
//                           cannot hold in a section name become '_')
//   active | passive        children start on load and keep trap policies
//                           (keyingtries 0) | answer only
//   esp | ah, tunnel | transport, ipcomp   child proposals' kind, mode, ipcomp
//   from A port P to B port Q (proto X)    a child, local_ts A[X/P],
//                           remote_ts B[X/Q] (dynamic: charon's "dynamic")
//   local, peer             local_addrs, remote_addrs (a network: a range
//                           of peers; none or any: %any)
//   ikesa ... (each)        an IKE proposal: enc-integ-prf-group, every
//                           transform of the group, AEAD without integ
//   childsa ... (each)      an ESP/AH proposal (group none: no PFS; esn)
//   ikelifetime             the IKE SA's rekey_time
//   lifetime T bytes B      child life_time / life_bytes, rekeyed at 90 %
//   srcid / dstid           local / remote identity (a DN "/C=DE/CN=gw" as
//                           charon writes DNs: "C=DE, CN=gw")
//   psk                     a shared secret owned by the peer's address and
//                           dstid (or %any), as for ike rules
//   rsa, ecdsa*, signature, rfc7427 (the default)   pubkey, with this
//                           host's key and the peer's from iked's layout
//                           (/etc/iked: private/local.key, local.pub,
//                           pubkeys/{ipv4,ipv6,fqdn,ufqdn}/ID, certs, ca)
//   config address A (each)  an address pool (load-pool) named after the
//                           connection, `pools`; A's prefix is the range (a
//                           single address: one lease)
//   config name-server ...  dns, nbns, dhcp, netmask, subnet, server of the
//                           first pool
//   request address any     vips 0.0.0.0 (or the address asked for)
//   set mobike | nomobike, fragmentation, dpd_check_interval, passive
//                           mobike, fragmentation, dpd_delay, and every
//                           policy passive
//   iface NAME              the children's if_id_in/out: the if_id of the
//                           XFRM interface NAME (a route-based VPN, as sec(4)
//                           on OpenBSD)
//   eap "mschap-v2"         remote auth eap-mschapv2 (eap_id %any); this side
//                           signs with its key or certificate (iked's layout)
//   user NAME PASSWORD      an EAP secret eap-ipsecctl-NAME owned by NAME,
//                           carried by the first connection
// Refused at the policy's line, naming what is missing: an iface that is no
// XFRM interface (with the command that makes one), tap, config
// attributes without a config address, and transforms charon does not
// have (blowfish, sntrup761x25519).
#pragma once

#include <optional>
#include <vector>

#include "backends/keys/key_directory.h"
#include "backends/vici/vici_config.h"
#include "common/diagnostics.h"
#include "compiler/iked/iked_config.h"

namespace ipsecctl::backends::vici {

std::optional<std::vector<ViciConnection>> translate_iked(const iked::Config& config,
                                                          Diagnostics& diagnostics,
                                                          const SourceAddressLookup& source_for,
                                                          keys::KeyDirectory* keys,
                                                          const InterfaceIdLookup& if_ids = {});

}  // namespace ipsecctl::backends::vici
