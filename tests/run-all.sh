#!/bin/sh
# The test command: installs what the build needs (Debian 12), builds with
# warnings as errors, runs the whole suite, then builds again with
# AddressSanitizer + UBSan and runs the whole suite once more.
set -eu
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
PACKAGES="g++ cmake make bison flex libgtest-dev python3 netbase iproute2"
missing=""
for p in $PACKAGES; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  $SUDO apt-get update -qq
  $SUDO DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
jobs=$(nproc)

cmake -S . -B build-ci -DIPSECCTL_WERROR=ON >/dev/null
cmake --build build-ci -j "$jobs"
(cd build-ci && ctest --output-on-failure)

cmake -S . -B build-ci-asan -DIPSECCTL_WERROR=ON -DIPSECCTL_SANITIZE=ON >/dev/null
cmake --build build-ci-asan -j "$jobs"
(cd build-ci-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure)
