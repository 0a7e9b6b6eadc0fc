#!/bin/sh
# Downloads (never installs) packages and every package they need that
# this machine does not have into CACHE/SET, for the qemu guest to unpack
# into its own overlay root: libreswan would replace strongSwan on the
# machine itself (the packages conflict), and keepalived or bird2 have no
# business running on it. apt resolves the whole dependency closure as if
# nothing were installed; what is installed here (in any version) is then
# left out, so the guest keeps the host's own.
# usage: fetch-packages.sh CACHE SET PACKAGE...
set -eu
cache=$1 set=$2
shift 2
mkdir -p "$cache"
# The qemu tier's tests run side by side: one fetch at a time.
exec 9>"$cache/.fetch.lock"
flock 9
dir=$(cd "$cache" && pwd)/$set
[ -f "$dir/ready" ] && [ "$(cat "$dir/wanted" 2>/dev/null)" = "$*" ] && exit 0
rm -rf "$dir"
mkdir -p "$dir/archives/partial"
: > "$dir/empty-status"
apt-get install -y -qq --download-only --no-install-recommends \
  -o Dir::State::status="$dir/empty-status" -o Dir::Cache::archives="$dir/archives" \
  -o APT::Sandbox::User=root "$@" >/dev/null
kept=""
for deb in "$dir"/archives/*.deb; do
  package=$(dpkg-deb -f "$deb" Package)
  if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    continue
  fi
  mv "$deb" "$dir/"
  kept="$kept $package"
done
rm -rf "$dir/archives" "$dir/empty-status"
echo "$*" > "$dir/wanted"
echo "$kept" > "$dir/ready"
