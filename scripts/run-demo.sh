#!/usr/bin/env bash
# `make run`: the whole product on its embedded default. A demo visit runs against a real
# back-office (SQLite in .doorstep-demo), which then serves on $DEMO_LISTEN; a new visit is
# booked for now, and two instances of the app open: one to enrol as the agent, one as the
# customer, each with a one-time code printed below (or its QR picture to scan from a file);
# beside them the back-office console, with a staff login printed below.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${DEMO_DIR:-.doorstep-demo}
LISTEN=${DEMO_LISTEN:-127.0.0.1:8080}
url="http://$LISTEN"
ORG="Northbank Cards"
server=target/debug/doorstep-server
S() { "$server" --database-url "sqlite:$DIR/backoffice.db" --key-dir "$DIR" "$@"; }

rm -rf "$DIR"
target/debug/doorstep demo --keep "$DIR"
S visit --org "$ORG" add --ref V-2026-0002 --agent A-0117 --customer C-1001 \
  --start "$(date -u -d '-5 min' +%Y-%m-%dT%H:%M:%SZ)" --minutes 120 \
  --purpose "Hand over your new debit card" --checks card_handover \
  --fields "full_name card_last_four" >/dev/null
agent_code=$(S enrol-code --org "$ORG" --role agent --for A-0117 --public-url "$url" \
  --png "$DIR/agent-invite.png" | sed -n 's/^Enrolment code for .*: //p')
# The two windows trust this back-office only: a development pin on loopback, which they
# announce on every screen. A release build trusts what it shipped with (src-tauri/pins.json).
S pins --org "$ORG" --public-url "$url" --out "$DIR/pins.json" >/dev/null
customer_code=$(S enrol-code --org "$ORG" --role customer --for C-1001 --public-url "$url" \
  --png "$DIR/customer-invite.png" | sed -n 's/^Enrolment code for .*: //p')

console_login=$(S staff --org "$ORG" add --username admin --name "Demo Admin" --role admin |
  sed -n 's/.*password: //p')

S serve --listen "$LISTEN" &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true' EXIT

echo
echo "The back-office serves on $url (API description: $url/v1/openapi.json)."
echo "Two app windows open. Enrol each with its one-time code (then confirm $ORG, $url),"
echo "or with 'Scan from an image file' and the picture named:"
echo "  agent's app:     $agent_code   ($DIR/agent-invite.png)"
echo "  customer's app:  $customer_code   ($DIR/customer-invite.png)"
echo "Then, at the customer's app, 'Someone is at my door'; pass each code across as a"
echo "screenshot (scan from an image) or by 'Paste a code'. Close both windows to stop."
echo "The console: $url/console/  (username: admin, password: $console_login)"
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "(No display here: the apps are not started. The back-office keeps serving; Ctrl-C stops it.)"
  wait "$server_pid"
  exit 0
fi
if command -v chromium >/dev/null 2>&1; then
  chromium --user-data-dir="$DIR/console-browser" --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --app="$url/console/" >/dev/null 2>&1 &
fi
DOORSTEP_DATA_DIR="$DIR/agent-app" DOORSTEP_DEVELOPMENT_PINS="$DIR/pins.json" target/debug/doorstep-app &
agent_pid=$!
DOORSTEP_DATA_DIR="$DIR/customer-app" DOORSTEP_DEVELOPMENT_PINS="$DIR/pins.json" target/debug/doorstep-app &
customer_pid=$!
wait "$agent_pid" "$customer_pid" || true
