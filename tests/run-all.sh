#!/bin/sh
# The test command: installs what the build and the tests need (Debian 12),
# builds with warnings as errors, runs the whole suite (unit, golden, cli,
# conformance, netns, qemu, interop), then builds again with AddressSanitizer +
# UBSan and runs everything but the qemu tier once more (the guest runs the
# same backend code the netns tier already runs under the sanitizers).
set -eu
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
PACKAGES="g++ cmake make bison flex libgtest-dev python3 netbase iproute2 iputils-ping
          qemu-system-x86 strongswan-charon strongswan-swanctl libcharon-extra-plugins
          libstrongswan-standard-plugins"
missing=""
for p in $PACKAGES; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
# The qemu tier downloads a kernel with apt-get download: it needs lists.
if [ -n "$missing" ] || ! ls /var/lib/apt/lists/*Packages* >/dev/null 2>&1; then
  $SUDO apt-get update -qq
fi
if [ -n "$missing" ]; then
  $SUDO DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=900 $missing >/dev/null
fi
jobs=$(nproc)

cmake -S . -B build-ci -DIPSECCTL_WERROR=ON >/dev/null
cmake --build build-ci -j "$jobs"
(cd build-ci && ctest --output-on-failure)

cmake -S . -B build-ci-asan -DIPSECCTL_WERROR=ON -DIPSECCTL_SANITIZE=ON >/dev/null
cmake --build build-ci-asan -j "$jobs"
(cd build-ci-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -LE qemu)
