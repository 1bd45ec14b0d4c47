#!/usr/bin/env bash
# Runs `make STAGE` for each stage in order, stopping at the first that fails, and ends with how
# long each took: CI has 90 minutes, and this is where they go.
# Usage: scripts/test-stages.sh STAGE...
set -uo pipefail
declare -a report=()
summary() {
  echo "== time per stage"
  printf '%s\n' "${report[@]}"
}
trap summary EXIT
for stage in "$@"; do
  start=$SECONDS
  echo "== stage $stage"
  if ! make --no-print-directory "$stage"; then
    report+=("$(printf '%-14s %5d s  FAILED' "$stage" $((SECONDS - start)))")
    exit 1
  fi
  report+=("$(printf '%-14s %5d s' "$stage" $((SECONDS - start)))")
done
