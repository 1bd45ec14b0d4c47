#!/usr/bin/env bash
# The app end to end: a real back-office (SQLite) with an agent, a customer and two visits;
# two instances of the app, each with its own data directory and driver; then
# visit.test.mjs. Expects a display (xvfb-run) and a session bus with a Secret Service
# (scripts/with-keyring.sh), and for the tap a private pcscd (scripts/with-pcscd.sh); `make e2e`
# provides all three. SCREENS_DIR=dir keeps screenshots.
set -euo pipefail
cd "$(dirname "$0")/../.."
APP=${APP:-$PWD/target/debug/doorstep-app}
SERVER_BIN=${SERVER_BIN:-$PWD/target/debug/doorstep-server}
CLI_BIN=${CLI_BIN:-$PWD/target/debug/doorstep}
ORG="Northbank Cards"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "e2e: nothing listens on port $1" >&2
  return 1
}

export DOORSTEP_DATABASE_URL="sqlite:$work/backoffice.db" DOORSTEP_KEY_DIR="$work"
port=$(free_port)
url="http://127.0.0.1:$port"
S() { "$SERVER_BIN" "$@" >/dev/null; }
S init --name "$ORG" --official-phone "+31 20 555 0100" --retention-days 30 \
  --public-url "$url" --pins-out "$work/pins.json"
# A phone scammer's own back-office, calling itself by the same name; the apps do not pin it.
rogue() { DOORSTEP_DATABASE_URL="sqlite:$work/rogue.db" DOORSTEP_KEY_DIR="$work/rogue" S "$@"; }
mkdir -p "$work/rogue"
rogue init --name "$ORG" --official-phone "+44 20 0000 0000"
rogue customer --org "$ORG" add --ref C-1001 --data "full_name=Jan Jansen"
rogue enrol-code --org "$ORG" --role customer --for C-1001 --public-url "http://127.0.0.1:$(free_port)" \
  --png "$work/rogue-invite.png"
S agent --org "$ORG" add --staff-ref A-0117 --name "Sanne de Vries" --on-behalf-of "$ORG" \
  --photo tests/e2e/fixtures/agent.png
S customer --org "$ORG" add --ref C-1001 --data "full_name=Jan Jansen" \
  --data "postal_address=Kerkstraat 1, 3511 AB Utrecht" --data card_last_four=4242 \
  --data date_of_birth=1970-01-01
# The visits are booked by visit.test.mjs once it has seen a phone with none announced.
S enrol-code --org "$ORG" --role agent --for A-0117 --public-url "$url" --png "$work/agent-invite.png"
customer_code=$("$SERVER_BIN" enrol-code --org "$ORG" --role customer --for C-1001 --public-url "$url" |
  sed -n 's/^Enrolment code for .*: //p')

"$SERVER_BIN" serve --listen "127.0.0.1:$port" 2>"$work/server.log" &
pids+=($!)
wait_port "$port"

# Under scripts/with-pcscd.sh the agent's app serves its door card behind the virtual reader
# and the customer's app reads through it: one tap, through a real PC/SC stack.
nfc_env() {
  case "$1" in
    agent) echo "-u DOORSTEP_PCSC_READER" ;;
    customer) echo "-u DOORSTEP_VPCD" ;;
  esac
}
drivers=()
for who in agent customer; do
  mkdir -p "$work/$who-phone"
  p=$(free_port); n=$(free_port)
  # shellcheck disable=SC2046
  env $(nfc_env "$who") DOORSTEP_DATA_DIR="$work/$who-phone" DOORSTEP_DEVELOPMENT_PINS="$work/pins.json" \
    tauri-driver --port "$p" --native-port "$n" >"$work/$who-driver.log" 2>&1 &
  pids+=($!)
  wait_port "$p"
  drivers+=("http://127.0.0.1:$p")
done

status=0
APP="$APP" SERVER_BIN="$SERVER_BIN" CLI_BIN="$CLI_BIN" SERVER_URL="$url" CUSTOMER_CODE="$customer_code" \
  AGENT_INVITE_PNG="$work/agent-invite.png" ROGUE_INVITE_PNG="$work/rogue-invite.png" AGENT_DRIVER="${drivers[0]}" \
  CUSTOMER_DRIVER="${drivers[1]}" NFC_E2E="${DOORSTEP_VPCD:+1}" SCREENS_DIR="${SCREENS_DIR:-}" E2E_FAILURES_DIR="${E2E_FAILURES_DIR:-}" \
  node --test --test-reporter=spec tests/e2e/visit.test.mjs || status=$?
if [ "$status" != 0 ]; then
  for log in "$work"/*.log; do echo "== $log"; tail -20 "$log"; done
fi
exit "$status"
