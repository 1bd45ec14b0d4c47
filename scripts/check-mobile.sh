#!/usr/bin/env bash
# Type-checks the app for Android and iOS (arm64). The Android NDK and Xcode are not available
# here, so C and Objective-C sources (SQLite, objc2's exception helper) are compiled for the
# check with Debian's aarch64 cross gcc and gobjc. The
# result is never linked or shipped: it only proves the Rust compiles for the phones, with the
# mobile-only plugins and without the desktop's.
set -euo pipefail
cd "$(dirname "$0")/.."
for target in aarch64-linux-android aarch64-apple-ios; do
  rustup target list --installed | grep -qx "$target" || rustup target add "$target"
done
cross_packages="gcc-aarch64-linux-gnu gobjc-aarch64-linux-gnu libc6-dev-arm64-cross"
# shellcheck disable=SC2086
if ! dpkg -s $cross_packages >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $cross_packages >/dev/null
fi
export CC_aarch64_linux_android=aarch64-linux-gnu-gcc AR_aarch64_linux_android=aarch64-linux-gnu-ar
# cc-rs passes Apple's clang a flag gcc does not know; a wrapper drops it.
ios_cc="$PWD/target/check-mobile-ios-cc"
mkdir -p target
cat >"$ios_cc" <<'SH'
#!/bin/sh
for arg; do shift; [ "$arg" = -gfull ] || set -- "$@" "$arg"; done
exec aarch64-linux-gnu-gcc "$@"
SH
chmod +x "$ios_cc"
export CC_aarch64_apple_ios="$ios_cc" AR_aarch64_apple_ios=aarch64-linux-gnu-ar CRATE_CC_NO_DEFAULTS=1
# A warning in the app's own code fails the check, as clippy's -D warnings does on desktops.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for target in aarch64-linux-android aarch64-apple-ios; do
  cargo check -p doorstep-app --lib --target "$target" 2>&1 | tee "$log"
  if grep -q '^warning' "$log"; then
    echo "check-mobile: warnings for $target" >&2
    exit 1
  fi
done
