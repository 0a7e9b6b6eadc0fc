#!/bin/sh
# The main job on the shipped examples: installs what the build needs
# (Debian 12), builds ipsecctl, and checks each example as an administrator
# would before loading it (`ipsecctl -nv -f FILE`), printing the generated
# flows, SAs and isakmpd commands.
set -eu
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
missing=""
for p in g++ cmake make bison libssl-dev; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  $SUDO apt-get update -qq
  # `env` carries the variable through sudo (and is harmless as root).
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    $missing >/dev/null
fi
cmake -S . -B build -DIPSECCTL_TESTS=OFF >/dev/null
cmake --build build -j "$(nproc)"
ipsecctl="$(pwd)/build/cli/ipsecctl"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r examples/. "$work"
# ipsecctl refuses configuration files that others can read (they hold keys).
find "$work" -name '*.conf' -exec chmod 600 {} +
status=0
for conf in "$work"/*/*.conf "$work"/*/*/*.conf; do
  [ -f "$conf" ] || continue
  # Other programs' files beside an example are named in its NOT-IPSECCTL.
  grep -qx "$(basename "$conf")" "$(dirname "$conf")/NOT-IPSECCTL" 2>/dev/null && continue
  name=${conf#"$work"/}
  echo "== ipsecctl -nv -f examples/$name"
  (cd "$(dirname "$conf")" && "$ipsecctl" -nv -f "$(basename "$conf")") || status=1
done
exit $status
