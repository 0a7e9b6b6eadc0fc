#!/bin/sh
# The test command: installs what the build and the tests need (Debian 12),
# builds with warnings as errors and runs the whole suite (unit, golden,
# cli, conformance, netns, qemu, interop), then builds again with
# AddressSanitizer + UBSan and runs once more what parses and what talks to
# the kernel (unit, golden, cli, conformance with a sample of the generated
# set, the netns tier but the systemd container, the isakmpd fifo); runs
# each libFuzzer target for 30 seconds from its seed corpus, and last
# builds and checks the Debian package. The long IKE scenarios run once,
# in the plain build: under the sanitizers they would test charon's
# timing again, not more of our code (the VICI code runs sanitized in the
# unit tests and the fuzz replays).
#
# The qemu tier runs in the background from the moment the plain build is
# done, three of its guests at a time (each is one emulated CPU that
# mostly waits on its scenario's timers); the sanitizer build (also the
# fuzzers' build) compiles beside the plain suite, and the package beside
# the sanitizer suite; each is waited for where it is needed. Each step's wall time is printed
# last.
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
PACKAGES="g++ cmake make bison libssl-dev openssl libgtest-dev python3 netbase iproute2 iputils-ping
          qemu-system-x86 strongswan-charon strongswan-swanctl libcharon-extra-plugins
          libcharon-extauth-plugins
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
started=$(date +%s)
times=$(mktemp)
failed=""
qemu_pid=""
qemu_log=build-ci/qemu-tier.log
trap 'rm -f "$times"; [ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null || true' EXIT

# step NAME COMMAND...: runs a step, notes its wall time, and goes on
# after a failure (the verdict is given at the end, with every failure).
step() {
  name=$1; shift
  t0=$(date +%s)
  if "$@"; then verdict=ok; else verdict=FAILED; failed="$failed $name"; fi
  printf '%-34s %5d s  %s\n' "$name" $(( $(date +%s) - t0 )) "$verdict" >> "$times"
}

# ctest_in BUILD_DIR EXCLUDED-LABELS [CTEST-ARGS...]: as root directly;
# otherwise the privileged labels through sudo and the rest as the caller.
ctest_in() {
  dir=$1 excluded=$2; shift 2
  if [ -z "$SUDO" ]; then (cd "$dir" && ctest --output-on-failure -LE "$excluded" "$@"); return; fi
  (cd "$dir" && ctest --output-on-failure -LE "$PRIVILEGED|$excluded" "$@") || return 1
  (cd "$dir" && $SUDO env IPSECCTL_REQUIRE_ALL_TIERS=1 ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
     UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" IPSECCTL_CONFORMANCE_SAMPLE="${IPSECCTL_CONFORMANCE_SAMPLE:-}" \
     IPSECCTL_PROPERTY_SEQUENCES="${IPSECCTL_PROPERTY_SEQUENCES:-}" \
     ctest --output-on-failure -L "$PRIVILEGED" -LE "$excluded" "$@")
}

finish() {
  if [ -n "$qemu_pid" ]; then
    t0=$(date +%s)
    if wait "$qemu_pid"; then verdict=ok; else verdict=FAILED; failed="$failed qemu-tier"; fi
    qemu_pid=""
    cat "$qemu_log"
    printf '%-34s %5d s  %s\n' "qemu tier (waited for at the end)" $(( $(date +%s) - t0 )) "$verdict" >> "$times"
  fi
  echo
  echo "Wall time of each step:"
  cat "$times"
  printf '%-34s %5d s\n' "total" $(( $(date +%s) - started ))
  if [ -n "$failed" ]; then echo "FAILED:$failed"; exit 1; fi
  echo "every step passed"
  exit 0
}

build() {  # build DIR CMAKE-ARGS...  ($NICE, if set, runs the compilers niced)
  dir=$1; shift
  cmake -S . -B "$dir" -DIPSECCTL_WERROR=ON "$@" >/dev/null && $NICE cmake --build "$dir" -j "$jobs"
}
NICE=

step "build (plain)" build build-ci
[ -z "$failed" ] || finish

# The qemu tier, in the background, its guests side by side.
qemu_tier() {
  (cd build-ci && $SUDO env IPSECCTL_REQUIRE_ALL_TIERS=1 ctest --output-on-failure -L qemu -j 3)
}
qemu_tier > "$qemu_log" 2>&1 &
qemu_pid=$!

# The sanitizer build compiles while the plain suite mostly waits on the
# daemons' timers (niced, so the tests keep their pace). It is also the
# libFuzzer build (clang: ASan + UBSan + coverage, at -O1, which finds as
# much as -O2 in half the time).
asan_log=build-ci/asan-build.log
asan_build() {
  NICE="nice -n 10"
  t0=$(date +%s)
  if build build-ci-asan -DCMAKE_CXX_COMPILER=clang++-14 -DIPSECCTL_FUZZ=ON \
       -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1"; then v=ok; else v=FAILED; fi
  printf '%-34s %5d s  %s\n' "build (ASan + UBSan + fuzzers), bg" $(( $(date +%s) - t0 )) "$v" >> "$times"
  [ "$v" = ok ]
}
asan_build > "$asan_log" 2>&1 &
asan_pid=$!

step "suite (plain, all but qemu)" ctest_in build-ci qemu

t0=$(date +%s)
if wait "$asan_pid"; then v=ok; else v=FAILED; failed="$failed sanitizer-build"; tail -n 40 "$asan_log"; fi
printf '%-34s %5d s  %s\n' "(waited for the sanitizer build)" $(( $(date +%s) - t0 )) "$v" >> "$times"
[ "$v" = ok ] || finish

# The Debian package builds from the committed tree (niced, beside the
# sanitizer suite), lintian finds no error, its unit verifies and its
# manual pages render.
deb_log=build-ci/deb-build.log
deb_build() {
  t0=$(date +%s)
  if nice -n 10 sh dist/build-deb.sh build-deb; then v=ok; else v=FAILED; fi
  printf '%-34s %5d s  %s\n' "Debian package, bg" $(( $(date +%s) - t0 )) "$v" >> "$times"
  [ "$v" = ok ]
}
deb_build > "$deb_log" 2>&1 &
deb_pid=$!

# The reload property's 10,000 sequences ran in the plain build; the
# sanitizers take a sample of them (and of the conformance sets).
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 IPSECCTL_CONFORMANCE_SAMPLE=16 \
  IPSECCTL_PROPERTY_SEQUENCES=300
step "suite (ASan + UBSan)" ctest_in build-ci-asan qemu -E 'vici_interop|ansible_fleet|systemd_units'
unset ASAN_OPTIONS UBSAN_OPTIONS IPSECCTL_CONFORMANCE_SAMPLE IPSECCTL_PROPERTY_SEQUENCES

# Every parser of untrusted bytes under libFuzzer, briefly; the regression
# inputs already ran above as ctest cases (fuzz_replay_*).
export IPSECCTL_FUZZ_BUILD=build-ci-asan
step "fuzzers" sh fuzz/run-fuzzers.sh "${IPSECCTL_FUZZ_SECONDS:-30}"

t0=$(date +%s)
if wait "$deb_pid"; then v=ok; else v=FAILED; failed="$failed package"; fi
cat "$deb_log"
printf '%-34s %5d s  %s\n' "(waited for the package)" $(( $(date +%s) - t0 )) "$v" >> "$times"

finish
