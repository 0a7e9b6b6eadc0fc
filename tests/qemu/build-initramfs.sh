#!/bin/sh
# Builds the guest's initramfs (uncompressed cpio: faster under TCG):
# busybox, the kernel modules IPsec needs, iproute2's ip (only for
# namespaces, links and addresses; IPsec itself is set up by ipsecctl
# alone), ipsecctl, the sniffer, and the guest test as /init.
# usage: build-initramfs.sh CACHE OUT.cpio GUEST_SCRIPT BINARY...
set -eu
cache=$1 out=$2 guest=$3
shift 3
kver=$(cat "$cache/ready")
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/sbin" "$root/etc" "$root/proc" "$root/sys" "$root/dev" \
  "$root/run" "$root/tmp" "$root/lib/modules/$kver/kernel" "$root/opt"
ln -s ../run "$root/var" 2>/dev/null || { mkdir -p "$root/var"; ln -s ../run "$root/var/run"; }
cp "$cache/bb/bin/busybox" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
# The kernel runs /sbin/modprobe to load crypto templates on demand.
ln -s ../bin/busybox "$root/sbin/modprobe"

mods="$cache/kroot/lib/modules/$kver"
cp "$mods"/modules.* "$root/lib/modules/$kver/"
# The last ones are for hostfs mode (the host's / over virtio 9p, an
# overlay on top), the lab's WAN bridge and the NAT firewall of the networks tier.
for dir in crypto arch/x86/crypto lib net/xfrm net/key net/ipv4 net/ipv6 drivers/net/veth.ko \
           drivers/virtio net/9p fs/9p fs/netfs fs/fscache fs/overlayfs net/bridge net/802 \
           net/llc net/netfilter; do
  if [ -e "$mods/kernel/$dir" ]; then
    mkdir -p "$root/lib/modules/$kver/kernel/$(dirname "$dir")"
    cp -r "$mods/kernel/$dir" "$root/lib/modules/$kver/kernel/$dir"
  fi
done

# Programs with the shared libraries they need, at the same paths.
copy_program() {
  cp "$1" "$root/opt/$(basename "$1")"
  ldd "$1" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}
copy_program "$(command -v ip)"
for binary in "$@"; do copy_program "$binary"; done
cp /etc/protocols /etc/services "$root/etc/"
echo "root:x:0:0:root:/:/bin/sh" > "$root/etc/passwd"

cp "$guest" "$root/init"
chmod 755 "$root/init"
(cd "$root" && find . | "$cache/bb/bin/busybox" cpio -o -H newc 2>/dev/null) > "$out"
