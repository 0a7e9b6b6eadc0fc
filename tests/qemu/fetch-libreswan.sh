#!/bin/sh
# Downloads (never installs) libreswan and every package it needs that
# this machine does not have into CACHE/libreswan, for the qemu guest to
# unpack into its own overlay root: on the machine itself libreswan would
# replace strongSwan (the packages conflict). apt resolves the whole
# dependency closure as if nothing were installed; what is installed here
# (in any version) is then left out, so the guest keeps the host's own.
# usage: fetch-libreswan.sh CACHE
set -eu
mkdir -p "$1"
dir=$(cd "$1" && pwd)/libreswan
[ -f "$dir/ready" ] && exit 0
rm -rf "$dir"
mkdir -p "$dir/archives/partial"
: > "$dir/empty-status"
apt-get install -y -qq --download-only --no-install-recommends \
  -o Dir::State::status="$dir/empty-status" -o Dir::Cache::archives="$dir/archives" \
  -o APT::Sandbox::User=root libreswan >/dev/null
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
echo "$kept" > "$dir/ready"
