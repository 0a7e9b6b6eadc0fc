#!/bin/sh
# The networks tier: the user documents' networks as the shipped examples
# build them (tests/networks/networks_test.py), in a stock Debian kernel
# under qemu (real ESP), on the host's userland over 9p (hostfs-init.sh),
# with Debian's keepalived, bird2 and libreswan unpacked into the guest's
# overlay only.
# usage: networks_qemu.sh IPSECCTL ESP_SNIFF WORKDIR
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
command -v nft >/dev/null || fail "nftables is not installed (apt-get install nftables)"
[ "$(id -u)" = 0 ] || fail "the 9p share of / needs root"
cache=${IPSECCTL_QEMU_CACHE:-$work/qemu-cache}
"$here/fetch-kernel.sh" "$cache"
"$here/fetch-packages.sh" "$cache" libreswan libreswan
"$here/fetch-packages.sh" "$cache" routing keepalived bird2
scratch=$(mktemp -d /tmp/ipsecctl-networks-qemu.XXXXXX)
trap 'cp "$scratch/console.log" "$work/networks-qemu-console.log" 2>/dev/null; rm -rf "$scratch"' EXIT
chmod 755 "$scratch"
"$here/build-initramfs.sh" "$cache" "$scratch/initramfs.cpio" "$here/hostfs-init.sh"
cat > "$scratch/guest.sh" <<GUEST
set -u
export IPSECCTL_REQUIRE_ALL_TIERS=1
export NETWORK_SCENARIOS="${NETWORK_SCENARIOS:-}"
# These packages go into the guest's overlay only.
for deb in "$cache"/libreswan/*.deb "$cache"/routing/*.deb; do
  case \$deb in *usrmerge*) continue ;; esac
  dpkg-deb --fsys-tarfile "\$deb" | tar -x --keep-directory-symlink -C / 2>/dev/null
done
python3 "$src/tests/networks/networks_test.py" --ipsecctl "$ipsecctl" --sniff "$sniff"
GUEST
GUEST_QEMU_ARGS="-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
GUEST_APPEND="ipsecctl.run=$scratch/guest.sh" GUEST_TIMEOUT=${IPSECCTL_NETWORKS_GUEST_TIMEOUT:-1500} \
GUEST_MEMORY=1536 "$here/run-guest.sh" "$cache" "$scratch/initramfs.cpio" "$scratch/console.log" ||
  { echo "--- the guest's console, last lines:"; tr -d '\r' < "$scratch/console.log" | tail -n 80; exit 1; }
