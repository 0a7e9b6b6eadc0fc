# Sourced by the qemu tiers that run one of the host's test scripts inside a
# stock Debian kernel (real ESP), on the host's own userland shared over 9p
# (hostfs-init.sh): ike_qemu.sh and networks_qemu.sh. The caller sets
# `here` (this folder) and `work` (ctest's WORKDIR).

# tier_cannot_run REASON: a skip for a developer's ctest (77), a failure
# when IPSECCTL_REQUIRE_ALL_TIERS says every tier must run.
tier_cannot_run() {
  if [ -n "${IPSECCTL_REQUIRE_ALL_TIERS:-}" ]; then echo "FAIL: this tier could not run: $1"; exit 1; fi
  echo "SKIP: $1"
  exit 77
}

# hostfs_prepare NAME: checks what every such tier needs, fetches the
# kernel into $cache, and makes $scratch with the guest's initramfs in it.
# On exit the scratch folder goes; the console stays in WORKDIR as
# NAME-qemu-console.log, for a look after the run.
hostfs_prepare() {
  command -v qemu-system-x86_64 >/dev/null ||
    tier_cannot_run "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
  [ -x /usr/lib/ipsec/charon ] || tier_cannot_run "strongSwan's charon is not installed"
  [ "$(id -u)" = 0 ] || tier_cannot_run "the 9p share of / needs root"
  cache=${IPSECCTL_QEMU_CACHE:-$work/qemu-cache}
  "$here/fetch-kernel.sh" "$cache"
  scratch=$(mktemp -d "/tmp/ipsecctl-$1-qemu.XXXXXX")
  hostfs_console="$work/$1-qemu-console.log"
  trap 'cp "$scratch/console.log" "$hostfs_console" 2>/dev/null; rm -rf "$scratch"' EXIT
  chmod 755 "$scratch"
  "$here/build-initramfs.sh" "$cache" "$scratch/initramfs.cpio" "$here/hostfs-init.sh"
}

# hostfs_boot MEMORY_MIB TIMEOUT_S CONSOLE_LINES: boots the guest, which
# runs $scratch/guest.sh (written by the caller) with every tier required;
# on failure the console's last lines are printed.
hostfs_boot() {
  GUEST_QEMU_ARGS="-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
  GUEST_APPEND="ipsecctl.run=$scratch/guest.sh" GUEST_TIMEOUT=$2 GUEST_MEMORY=$1 \
    "$here/run-guest.sh" "$cache" "$scratch/initramfs.cpio" "$scratch/console.log" ||
    { echo "--- the guest's console, last lines:"; tr -d '\r' < "$scratch/console.log" | tail -n "$3"; exit 1; }
}
