#!/bin/sh
# The IKE half of the qemu tier: a stock Debian kernel (real ESP) runs the
# host's own userland over 9p (hostfs-init.sh), and in it
# tests/ike/ike_gateways_test.py with charon installing kernel SAs
# (kernel-netlink), ESP counted on the wire, libreswan's pluto as a
# foreign peer and route-based tunnels over XFRM interfaces.
# usage: ike_qemu.sh IPSECCTL ESP_SNIFF WORKDIR
set -eu
ipsecctl=$1 sniff=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
fail() {
  if [ -n "${IPSECCTL_REQUIRE_ALL_TIERS:-}" ]; then echo "FAIL: this tier could not run: $1"; exit 1; fi
  echo "SKIP: $1"
  exit 77
}
command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
[ -x /usr/lib/ipsec/charon ] || fail "strongSwan's charon is not installed"
[ "$(id -u)" = 0 ] || fail "the 9p share of / needs root"
cache=${IPSECCTL_QEMU_CACHE:-$work/qemu-cache}
"$here/fetch-kernel.sh" "$cache"
"$here/fetch-packages.sh" "$cache" libreswan libreswan
scratch=$(mktemp -d /tmp/ipsecctl-ike-qemu.XXXXXX)
# The console stays in WORKDIR for a look after the run.
trap 'cp "$scratch/console.log" "$work/ike-qemu-console.log" 2>/dev/null; rm -rf "$scratch"' EXIT
chmod 755 "$scratch"
"$here/build-initramfs.sh" "$cache" "$scratch/initramfs.cpio" "$here/hostfs-init.sh"
cat > "$scratch/guest.sh" <<GUEST
set -u
export IPSECCTL_REQUIRE_ALL_TIERS=1
export IKE_SCENARIOS="${IKE_SCENARIOS:-}"
# libreswan goes into the guest's overlay only.
for deb in "$cache"/libreswan/*.deb; do
  dpkg-deb --fsys-tarfile "\$deb" | tar -x --keep-directory-symlink -C / 2>/dev/null
done
python3 "$src/tests/ike/ike_gateways_test.py" --ipsecctl "$ipsecctl" --kernel netlink \
  --sniff "$sniff" --delay "${IPSECCTL_IKE_DELAY:-20}"
GUEST
GUEST_QEMU_ARGS="-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
GUEST_APPEND="ipsecctl.run=$scratch/guest.sh" GUEST_TIMEOUT=${IPSECCTL_IKE_GUEST_TIMEOUT:-1500} \
GUEST_MEMORY=1024 "$here/run-guest.sh" "$cache" "$scratch/initramfs.cpio" "$scratch/console.log" ||
  { echo "--- the guest's console, last lines:"; tr -d '\r' < "$scratch/console.log" | tail -n 60; exit 1; }
