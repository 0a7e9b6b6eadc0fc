#!/bin/sh
# Downloads (never installs) libreswan and the libraries it needs that
# this machine lacks into CACHE/libreswan, for the qemu guest to unpack
# into its own overlay root: on the machine itself libreswan would
# replace strongSwan (the packages conflict).
# usage: fetch-libreswan.sh CACHE
set -eu
dir=$1/libreswan
[ -f "$dir/ready" ] && exit 0
rm -rf "$dir"
mkdir -p "$dir"
cd "$dir"
wanted=libreswan
for dep in $(apt-cache depends libreswan | awk '$1 == "Depends:" && $2 !~ /^</ { print $2 }'); do
  dpkg -s "$dep" >/dev/null 2>&1 || wanted="$wanted $dep"
done
# shellcheck disable=SC2086
apt-get download -q -o APT::Sandbox::User=root $wanted >/dev/null
echo "$wanted" > ready
