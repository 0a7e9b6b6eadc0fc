#!/bin/sh
# Downloads (never installs) a stock Debian kernel and busybox-static into
# CACHE and prepares them for a PVH boot under qemu:
#   CACHE/vmlinux             the uncompressed kernel (boots ~5 s faster
#                             under TCG than the XZ bzImage)
#   CACHE/kroot/lib/modules   its modules, with a modules.dep made by
#                             busybox depmod (the .deb leaves that to its
#                             postinst)
#   CACHE/bb/bin/busybox
# KPKG=linux-image-<abi>-amd64 pins a kernel; by default the one that
# linux-image-amd64 currently points to.
set -eu
cache=$1
mkdir -p "$cache"
cd "$cache"
# The qemu tier's tests run side by side: one fetch at a time.
exec 9>.fetch.lock
flock 9
[ -f ready ] && exit 0
pkg=${KPKG:-$(apt-cache depends linux-image-amd64 |
  awk '/Depends: linux-image-[0-9]/ { print $2; exit }')}
[ -n "$pkg" ] || { echo "fetch-kernel: cannot resolve linux-image-amd64" >&2; exit 1; }
rm -rf kroot bb ./*.deb
apt-get download -q -o APT::Sandbox::User=root "$pkg" busybox-static >/dev/null
mkdir kroot bb
dpkg -x "$pkg"_*.deb kroot
dpkg -x busybox-static_*.deb bb
kver=$(ls kroot/lib/modules)
bb/bin/busybox depmod -b "$PWD/kroot" "$kver"
python3 - kroot/boot/vmlinuz-"$kver" vmlinux <<'PY'
# The bzImage carries the kernel as one XZ stream; cut it out and inflate.
import lzma, sys
data = open(sys.argv[1], "rb").read()
start = data.find(b"\xfd7zXZ\x00")
if start < 0:
    sys.exit("fetch-kernel: no XZ stream in " + sys.argv[1])
out = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[start:])
if out[:4] != b"\x7fELF":
    sys.exit("fetch-kernel: the XZ stream is not an ELF kernel")
open(sys.argv[2], "wb").write(out)
PY
rm -f ./*.deb
echo "$kver" > ready
