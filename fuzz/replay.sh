#!/bin/sh
# Replays a fuzz target's seed corpus and past findings: replay.sh BINARY DIR TARGET
set -eu
binary=$1 dir=$2 target=$3
set --
for f in "$dir/corpus/$target"/* "$dir/regressions/$target"/*; do
  [ -f "$f" ] && set -- "$@" "$f"
done
exec "$binary" "$@"
