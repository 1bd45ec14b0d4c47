#!/usr/bin/env bash
# Type-checks the app for Android and iOS (arm64). The Android NDK and Xcode are not available
# here, so C sources (SQLite) are compiled for the check with Debian's aarch64 cross gcc. The
# result is never linked or shipped: it only proves the Rust compiles for the phones, with the
# mobile-only plugins and without the desktop's.
set -euo pipefail
cd "$(dirname "$0")/.."
for target in aarch64-linux-android aarch64-apple-ios; do
  rustup target list --installed | grep -qx "$target" || rustup target add "$target"
done
if ! command -v aarch64-linux-gnu-gcc >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-aarch64-linux-gnu libc6-dev-arm64-cross >/dev/null
fi
export CC_aarch64_linux_android=aarch64-linux-gnu-gcc AR_aarch64_linux_android=aarch64-linux-gnu-ar
export CC_aarch64_apple_ios=aarch64-linux-gnu-gcc AR_aarch64_apple_ios=aarch64-linux-gnu-ar CRATE_CC_NO_DEFAULTS=1
cargo check -p doorstep-app --lib --target aarch64-linux-android
cargo check -p doorstep-app --lib --target aarch64-apple-ios
