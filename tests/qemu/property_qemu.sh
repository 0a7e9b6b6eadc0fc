#!/bin/sh
# The reload property in a stock Debian kernel (ESP and AH SAs, PF_KEY),
# on the host's userland over 9p (hostfs-init.sh): tests/property's driver
# runs its random edit sequences with manual SAs through XFRM and then
# through PF_KEY, each in two namespaces of its own (live and fresh).
# usage: property_qemu.sh RELOAD_PROPERTY WORKDIR
# The guest emulates its CPU (TCG): a checked load takes about 40 ms there
# through XFRM and 130 ms through PF_KEY, against 2 ms on this machine, so
# the test command's run is a sample: 600 sequences through XFRM and 250
# through PF_KEY (about nine minutes beside the other guests; the host's
# reload_property_netns runs 10,000 through XFRM without SAs).
# IPSECCTL_PROPERTY_SEQUENCES sets another number for both (10000 for the
# full run), IPSECCTL_PROPERTY_SEED another seed, IPSECCTL_PROPERTY_KERNELS
# (default "xfrm pfkey") which interfaces.
set -eu
driver=$1 work=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/hostfs-tier.sh"
hostfs_prepare "property${IPSECCTL_PROPERTY_KERNELS:+-$(echo $IPSECCTL_PROPERTY_KERNELS | tr ' ' -)}"
cat > "$scratch/guest.sh" <<GUEST
set -u
rc=0
for run in xfrm:${IPSECCTL_PROPERTY_SEQUENCES:-600} pfkey:${IPSECCTL_PROPERTY_SEQUENCES:-250}; do
  case " ${IPSECCTL_PROPERTY_KERNELS:-xfrm pfkey} " in *" \${run%%:*} "*) ;; *) continue ;; esac
  kernel=\${run%%:*} sequences=\${run#*:}
  ip netns add live-\$kernel && ip netns add fresh-\$kernel || rc=1
  mkdir -p /tmp/property-\$kernel
  "$driver" --kernel \$kernel --live live-\$kernel --fresh fresh-\$kernel \
    --work /tmp/property-\$kernel --sequences \$sequences \
    --seed "${IPSECCTL_PROPERTY_SEED:-1}" > /tmp/property-\$kernel.out 2>&1
  status=\$?
  sed 's/^/     /' /tmp/property-\$kernel.out
  if [ \$status = 0 ]; then
    echo "ok   reload property through \$kernel with manual SAs: \$sequences sequences"
  else
    echo "FAIL reload property through \$kernel with manual SAs"; rc=1
  fi
  ip netns del live-\$kernel; ip netns del fresh-\$kernel
done
exit \$rc
GUEST
hostfs_boot 1024 "${IPSECCTL_PROPERTY_GUEST_TIMEOUT:-3000}" 80
