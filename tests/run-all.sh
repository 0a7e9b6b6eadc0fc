#!/bin/sh
# The test command: installs what the build and the tests need (Debian 12),
# builds with warnings as errors, runs the whole suite (unit, golden, cli,
# conformance, netns, qemu, interop), then builds again with AddressSanitizer +
# UBSan and runs everything but the qemu tier once more (the guest runs the
# same backend code the netns tier already runs under the sanitizers), runs
# each libFuzzer target for 30 seconds from its seed corpus, and last builds
# and checks the Debian package.
#
# The namespace, qemu and IKE tiers need root: as root they run directly;
# as a sudo user the build and the unprivileged tests run as the caller and
# those tiers run through sudo. A tier that cannot run fails the command
# (IPSECCTL_REQUIRE_ALL_TIERS): success means every tier ran and passed.
set -eu
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "run-all.sh: the namespace, qemu and IKE tiers need root; run as root or install sudo" >&2
    exit 1
  fi
  SUDO=sudo
fi
PACKAGES="g++ cmake make bison libgtest-dev python3 netbase iproute2 iputils-ping
          qemu-system-x86 strongswan-charon strongswan-swanctl libcharon-extra-plugins
          libstrongswan-standard-plugins util-linux clang-14 libclang-rt-14-dev
          build-essential debhelper dpkg-dev lintian groff-base systemd systemd-container
          mmdebstrap ansible-core python3-prometheus-client nftables"
missing=""
for p in $PACKAGES; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
# The qemu tier downloads a kernel with apt-get download: it needs lists.
if [ -n "$missing" ] || ! ls /var/lib/apt/lists/*Packages* >/dev/null 2>&1; then
  $SUDO apt-get update -qq
fi
if [ -n "$missing" ]; then
  # `env` carries the variable through sudo (and is harmless as root).
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=900 $missing >/dev/null
fi
jobs=$(nproc)
PRIVILEGED='netns|qemu|interop'
export IPSECCTL_REQUIRE_ALL_TIERS=1

# run_suite BUILD_DIR [EXCLUDED_LABELS]: every test of the build, the
# privileged tiers as root.
run_suite() {
  dir=$1 excluded=${2:-}
  if [ -z "$SUDO" ]; then
    if [ -n "$excluded" ]; then (cd "$dir" && ctest --output-on-failure -LE "$excluded")
    else (cd "$dir" && ctest --output-on-failure); fi
  else
    (cd "$dir" && ctest --output-on-failure -LE "$PRIVILEGED${excluded:+|$excluded}")
    if [ -n "$excluded" ]; then
      (cd "$dir" && $SUDO env IPSECCTL_REQUIRE_ALL_TIERS=1 ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
         UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" ctest --output-on-failure -L "$PRIVILEGED" -LE "$excluded")
    else
      (cd "$dir" && $SUDO env IPSECCTL_REQUIRE_ALL_TIERS=1 ctest --output-on-failure -L "$PRIVILEGED")
    fi
  fi
}

cmake -S . -B build-ci -DIPSECCTL_WERROR=ON >/dev/null
cmake --build build-ci -j "$jobs"
run_suite build-ci

cmake -S . -B build-ci-asan -DIPSECCTL_WERROR=ON -DIPSECCTL_SANITIZE=ON >/dev/null
cmake --build build-ci-asan -j "$jobs"
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
run_suite build-ci-asan qemu

# Every parser of untrusted bytes under libFuzzer, briefly; the regression
# inputs already ran above as ctest cases (fuzz_replay_*).
sh fuzz/run-fuzzers.sh "${IPSECCTL_FUZZ_SECONDS:-30}"

# The Debian package builds from the committed tree, lintian finds no
# error, its unit verifies and its manual pages render.
sh dist/build-deb.sh build-deb
