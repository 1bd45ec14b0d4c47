#!/usr/bin/env bash
# Figures for docs/benchmarks.md: the shipped (dist profile) app's binary size, and its cold start to the
# first screen under Xvfb (process launched → the views report their first screen painted),
# each start with a fresh data directory. Run under xvfb-run (`make measure-app`).
set -euo pipefail
cd "$(dirname "$0")/.."
APP=${APP:-target/dist/doorstep-app}
RUNS=${RUNS:-7}
size=$(stat -c %s "$APP")
echo "figure: release binary $APP: $size bytes ($(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1048576 }') MiB)"
times=()
for i in $(seq 1 "$RUNS"); do
  dir=$(mktemp -d)
  log="$dir/app.log"
  : >"$log"
  start=$(date +%s%3N)
  DOORSTEP_DATA_DIR="$dir" DOORSTEP_KEY_STORE=file "$APP" 2>"$log" &
  pid=$!
  shown=""
  for _ in $(seq 1 200); do
    shown=$(sed -n 's/^doorstep: first screen at \([0-9]*\) ms.*/\1/p' "$log")
    [ -n "$shown" ] && break
    sleep 0.05
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
  [ -n "$shown" ] || { echo "run $i: no first screen within 10 s" >&2; exit 1; }
  times+=($((shown - start)))
  echo "run $i: first screen after $((shown - start)) ms"
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "figure: cold start to first screen, median of $RUNS: ${sorted[$((RUNS / 2))]} ms (min ${sorted[0]}, max ${sorted[$((RUNS - 1))]})"
