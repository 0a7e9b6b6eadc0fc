#!/bin/sh
# Builds the Debian package from the source tree in a scratch copy,
# then checks it: lintian (no errors), the unit with
# `systemd-analyze verify` against the unpacked package, and that the
# manual pages render. The .deb ends up in OUTDIR (default build-deb/).
# usage: dist/build-deb.sh [OUTDIR]
set -eu
cd "$(dirname "$0")/.."
out=$(mkdir -p "${1:-build-deb}" && cd "${1:-build-deb}" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/ipsecctl"
# The tree without build products (works without git, as in a fresh root).
tar -cf - --exclude='./build*' --exclude=./.git --exclude=./.cache --exclude='__pycache__' . |
  tar -xf - -C "$scratch/ipsecctl"
(cd "$scratch/ipsecctl" && dpkg-buildpackage -b -us -uc -j"$(nproc)" > "$scratch/build.log" 2>&1) ||
  { tail -n 40 "$scratch/build.log"; exit 1; }
deb=$(ls "$scratch"/ipsecctl_*.deb)
cp "$deb" "$out/"
echo "built $(basename "$deb")"
status=0
# lintian prefers not to run as root; the verdict is the same.
lintian --fail-on error "$scratch"/ipsecctl_*.changes 2>&1 | grep -v 'root privileges' || true
lintian --fail-on error "$scratch"/ipsecctl_*.changes >/dev/null 2>&1 || status=1
root="$scratch/root"
dpkg -x "$deb" "$root"
# The unit is verified as installed next to the system's own units (its
# dependencies); its manual pages are checked below.
cp -rn /lib/systemd/system/. "$root/lib/systemd/system/"
if systemd-analyze verify --man=no --root="$root" /lib/systemd/system/ipsecctl.service; then
  echo "systemd-analyze verify: ipsecctl.service is fine"
else
  status=1
fi
for page in usr/share/man/man8/ipsecctl.8.gz usr/share/man/man5/ipsecctl.conf.5.gz; do
  if zcat "$root/$page" | groff -mandoc -Tutf8 -ww -z 2> "$scratch/groff.err" &&
     [ ! -s "$scratch/groff.err" ]; then
    echo "man page renders: $page"
  else
    cat "$scratch/groff.err"
    status=1
  fi
done
exit $status
