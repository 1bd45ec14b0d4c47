#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 20), two at a time, seeded with the test
# vectors' codes.
# Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
seconds=${1:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
fuzz="$root/tests/fuzz"
seeds="$fuzz/target/seeds"
rm -rf "$seeds" && mkdir -p "$seeds"/{text,cbor,documents,bodies,images,apdus}

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
# Request bodies and signature headers, as a phone sends them.
bodies = {
    "batch": {"uploads": [{"id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "kind": "receipt", "payload": "AAEC"}],
              "log": {"entries": 1, "hashes": ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]}},
    "report": {"visit_id": None, "reason": "wrong_visit", "note": "Did not look like the photo", "time": 1800000000},
    "enrol": {"code": "ABCD-EFGH-JKLM", "public_key": "AAEC"},
}
for name, body in bodies.items():
    (out / "bodies" / name).write_text(json.dumps(body))
# A tap as the card hears it (mode byte 0, then length-prefixed APDUs): SELECT, a chained
# challenge, GET RESPONSE; and a card's answers as the reader hears them (mode byte 1).
select = bytes.fromhex("00A4040009F0444F4F5253544550" + "00")
chained = bytes.fromhex("90100000" + "04") + bytes(4)
last = bytes.fromhex("80100000" + "02") + bytes(2) + b"\x00"
get = bytes.fromhex("00C0000000")
tap = b"".join(bytes([len(a)]) + a for a in (select, chained, last, get))
(out / "apdus" / "card").write_bytes(b"\x00" + tap)
answers = [bytes.fromhex("019000"), bytes(200) + bytes.fromhex("6120"), bytes(32) + bytes.fromhex("9000")]
(out / "apdus" / "reader").write_bytes(b"\x01" + b"".join(bytes([len(a)]) + a for a in answers))
(out / "bodies" / "header").write_text("v1 key=0011223344556677 time=1800000000 nonce=" + "00" * 16 + " sig=" + "11" * 64)
PY
# A screen with a code on it, so the image decoder starts from a real picture.
cp "$root/docs/screens/06-customer-challenge.en.png" "$seeds/images/challenge.png"

cd "$root"
run() {
  local target=$1 seed_dir=$2
  local corpus="$fuzz/corpus/$target"
  mkdir -p "$corpus"
  echo "fuzz: $target for ${seconds}s"
  local log="$fuzz/target/$target.log"
  local status=0
  cargo +nightly fuzz run --fuzz-dir "$fuzz" -O -s none "$target" "$corpus" "$seeds/$seed_dir" -- \
    -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
  if [ "$status" -ne 0 ]; then
    grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" >&2 || tail -20 "$log" >&2
    echo "fuzz: $target failed; the input is in $fuzz/artifacts/$target" >&2
    return 1
  fi
}
# Built once, then two targets at a time: each fuzzer uses one core. Without a sanitizer: the
# code is safe Rust, so what is looked for is a panic, an abort or memory past libFuzzer's RSS
# limit, which libFuzzer catches itself; and it builds and runs several times faster.
cargo +nightly fuzz build --fuzz-dir "$fuzz" -O -s none
failed=0
running=0
for pair in code_text:text customer_session:text cbor_messages:cbor documents:documents \
  request_bodies:bodies image_decoder:images nfc_apdus:apdus; do
  run "${pair%%:*}" "${pair##*:}" &
  running=$((running + 1))
  if ((running >= 2)); then
    wait -n || failed=1
    running=$((running - 1))
  fi
done
while ((running > 0)); do
  wait -n || failed=1
  running=$((running - 1))
done
exit "$failed"
