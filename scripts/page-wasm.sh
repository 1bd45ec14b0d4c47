#!/usr/bin/env bash
# The verification page's WebAssembly: doorstep-page built for wasm32 in the size-first `page`
# profile, and wasm-bindgen's glue for it, in web/verify/pkg, which doorstep-server embeds. The
# files there are replaced only when they change, so the server is not rebuilt for nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build -q -p doorstep-page --target wasm32-unknown-unknown --profile page
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section --out-dir "$out" \
  target/wasm32-unknown-unknown/page/doorstep_page.wasm
mkdir -p web/verify/pkg
for file in "$out"/*; do
  name=$(basename "$file")
  if ! cmp -s "$file" "web/verify/pkg/$name"; then
    cp "$file" "web/verify/pkg/$name"
    echo "page-wasm: web/verify/pkg/$name updated"
  fi
done
