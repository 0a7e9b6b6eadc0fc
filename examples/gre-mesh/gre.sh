#!/bin/sh
# A GRE tunnel to one peer, as the GRE document makes it on OpenBSD
# (ifconfig greN tunnel ME PEER; ifconfig greN inet INNER PEERINNER
# netmask 0xffffffff up): the outer packets go between the two global
# addresses, which ipsec.conf encrypts; OSPF runs on the inner /32 pair.
# usage: gre.sh NAME ME PEER INNER PEER-INNER
#   e.g. on 192.0.2.1:  gre.sh gre2 192.0.2.1 192.0.2.2 172.16.12.1 172.16.12.2
set -eu
ip tunnel add "$1" mode gre local "$2" remote "$3" ttl 64
ip addr add "$4/32" peer "$5/32" dev "$1"
# Room for GRE (24 bytes) and ESP in tunnel mode (up to 73) within 1500,
# the same on both ends (OSPF neighbours must agree on it).
ip link set "$1" mtu 1400 up
