#!/bin/sh
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for
# SECONDS (default 30, all at once), starting from its seed corpus. Prints how many
# inputs each ran; exits 1 when one finds a crash, a leak or a hang, and
# leaves the input in BUILD/findings/TARGET/ (BUILD: build-fuzz or
# $IPSECCTL_FUZZ_BUILD) to become a regression
# case (fuzz/regressions/TARGET/).
# usage: fuzz/run-fuzzers.sh [SECONDS] [TARGET...]
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-30}
[ $# -gt 0 ] && shift
targets=${*:-config xfrm pfkey vici iked}
# IPSECCTL_FUZZ_BUILD=DIR: the targets are already built there (a build
# configured with -DIPSECCTL_FUZZ=ON, as the test command's sanitizer
# build is); otherwise they are built here, in build-fuzz/.
fb=${IPSECCTL_FUZZ_BUILD:-}
if [ -z "$fb" ]; then
  fb=build-fuzz
  cxx=$(command -v clang++-14 || command -v clang++ || true)
  if [ -z "$cxx" ]; then
    echo "run-fuzzers.sh: clang++ is needed (apt-get install clang-14 libclang-rt-14-dev)" >&2
    exit 1
  fi
  cmake -S . -B "$fb" -DCMAKE_CXX_COMPILER="$cxx" -DIPSECCTL_FUZZ=ON -DIPSECCTL_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$fb" -j "$(nproc)" --target $(for t in $targets; do echo "fuzz_$t"; done) >/dev/null
# The targets run side by side (each is one process): the command waits
# SECONDS once, not once per target.
for t in $targets; do
  work=$fb/corpus/$t findings=$fb/findings/$t
  rm -rf "$work" "$findings"
  mkdir -p "$work" "$findings"
  cp fuzz/corpus/"$t"/* "$work"/
  # Several dictionaries' worth of keywords are in the seeds already.
  ( if ./"$fb"/fuzz/fuzz_"$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
         -print_final_stats=1 -artifact_prefix="$findings/" "$work" >"$fb"/fuzz-$t.log 2>&1
    then echo 0; else echo 1; fi ) > "$fb"/fuzz-$t.status &
done
wait
status=0
for t in $targets; do
  log=$fb/fuzz-$t.log findings=$fb/findings/$t
  if [ "$(cat "$fb"/fuzz-$t.status)" = 0 ]; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz_$t: $runs inputs in ${seconds}s, no finding"
  else
    echo "fuzz_$t: FINDING (see $log and $findings/)"
    tail -n 30 "$log"
    status=1
  fi
done
exit $status
