#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 20), seeded with the test vectors' codes.
# Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
seconds=${1:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
fuzz="$root/crates/doorstep-core/fuzz"
seeds="$fuzz/target/seeds"
rm -rf "$seeds" && mkdir -p "$seeds"/{text,cbor,documents}

python3 - "$root/tests/vectors/doorstep-v2.json" "$seeds" <<'PY'
import json, sys, pathlib
vectors = json.load(open(sys.argv[1]))
out = pathlib.Path(sys.argv[2])
h = vectors["handshake"]
n = 0
for kind in ("challenge", "proof", "proof_with_full_ticket", "response", "receipt"):
    (out / "text" / kind).write_text(h[kind]["text"])
    (out / "cbor" / kind).write_bytes(bytes.fromhex(h[kind]["cbor"]))
for r in vectors["refusals"]:
    for i, text in enumerate(r["codes"]):
        (out / "text" / f'{r["tamper"]}-{i}').write_text(text)
for name, doc in vectors["documents"].items():
    (out / "documents" / name).write_bytes(bytes.fromhex(doc["encoded"]))
PY

cd "$root/crates/doorstep-core"
run() {
  local target=$1 seed_dir=$2
  local corpus="$fuzz/corpus/$target"
  mkdir -p "$corpus"
  echo "fuzz: $target for ${seconds}s"
  local log="$fuzz/target/$target.log"
  local status=0
  cargo +nightly fuzz run -O "$target" "$corpus" "$seeds/$seed_dir" -- \
    -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
  if [ "$status" -ne 0 ]; then
    grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" >&2 || tail -20 "$log" >&2
    echo "fuzz: $target failed; the input is in $fuzz/artifacts/$target" >&2
    return 1
  fi
}
run code_text text
run customer_session text
run cbor_messages cbor
run documents documents
