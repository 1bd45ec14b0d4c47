#!/usr/bin/env bash
# Installs what building and testing Doorstep needs, idempotently: Debian packages (the app's
# WebKitGTK and its WebDriver, Xvfb), Rust targets and tools, the views' npm packages.
# Everything here is a no-op when already present.
set -euo pipefail

need_apt=()
for tool in gcc:gcc pkg-config:pkg-config python3:python3; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need_apt+=("${tool##*:}")
done
# The desktop app (Tauri 2 on WebKitGTK, PC/SC for a USB reader), its WebDriver, a virtual
# display for its tests, the private PC/SC daemon with a virtual reader the NFC tests use, and
# Chromium for the console's browser tests, and poppler's tools, which read the enrolment
# letters the console prints back (text and the QR code as a picture).
for pkg in libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev \
  libsoup-3.0-dev libxdo-dev libssl-dev webkit2gtk-driver xvfb xauth file \
  pcscd libpcsclite-dev vsmartcard-vpcd iproute2 chromium poppler-utils; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

# The services the tests start privately (scripts/with-*.sh). Installed here because those
# scripts may run inside the PC/SC daemon's network namespace, where no mirror is reachable.
need_services=()
for pkg in postgresql-15 gnome-keyring dbus dbus-daemon; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need_services+=("$pkg")
done
if [ ${#need_services[@]} -gt 0 ]; then
  echo "setup: installing ${need_services[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_services[@]}"
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

if [ "${WITH_FUZZ:-1}" = 1 ]; then
  if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
  fi
  # The tools below are built without optimisation: they build in half the time on a fresh
  # machine, and what they do here takes seconds either way.
  if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked --debug
  fi
  # The offline supply-chain check (licences, bans, sources) in `make test`.
  if ! cargo deny --version 2>/dev/null | grep -q '0\.20\.'; then
    cargo install cargo-deny --version 0.20.2 --locked --debug
  fi
fi

# Makes the verification page's JavaScript glue for its WebAssembly: the same version as the
# wasm-bindgen crate doorstep-page pins, or the two do not fit. (Not --locked: one of its
# locked dependencies is not on the registry this machine reaches.)
if ! wasm-bindgen --version 2>/dev/null | grep -qx 'wasm-bindgen 0.2.130'; then
  cargo install wasm-bindgen-cli --version =0.2.130 --debug
fi

# Drives the app's WebKit for the end-to-end tests.
if ! command -v tauri-driver >/dev/null 2>&1; then
  cargo install tauri-driver --locked --debug
fi

# The views' packages, exactly as locked; reinstalled only when the lockfile changed.
ui=$(dirname "$0")/../ui
if [ ! -f "$ui/node_modules/.package-lock.json" ] || [ "$ui/package-lock.json" -nt "$ui/node_modules/.package-lock.json" ]; then
  npm --prefix "$ui" ci --no-audit --no-fund
fi

# The verification page's tests' packages (playwright-core, axe-core), as locked.
verify=$(dirname "$0")/../web/verify
if [ ! -f "$verify/node_modules/.package-lock.json" ] || [ "$verify/package-lock.json" -nt "$verify/node_modules/.package-lock.json" ]; then
  npm --prefix "$verify" ci --no-audit --no-fund
fi

# The console's packages (and the browser tests' playwright-core and axe-core), as locked.
console=$(dirname "$0")/../web/console
if [ ! -f "$console/node_modules/.package-lock.json" ] || [ "$console/package-lock.json" -nt "$console/node_modules/.package-lock.json" ]; then
  npm --prefix "$console" ci --no-audit --no-fund
fi
