#!/usr/bin/env bash
# Runs a command beside a private PC/SC daemon (Debian's pcscd) with one vsmartcard virtual
# contactless reader, so NFC taps go through a real PC/SC stack with no hardware. The daemon
# lives in its own network and mount namespaces: the reader's TCP port and pcscd's socket are
# private, and a pcscd the machine may run is neither seen nor touched. Stopped afterwards
# whatever the command's result. The command sees DOORSTEP_VPCD (where the virtual card
# connects) and DOORSTEP_PCSC_READER (the reader's name).
#
#   scripts/with-pcscd.sh cargo test -p doorstep-device --test tap
set -euo pipefail

if [ -z "${DOORSTEP_PCSCD_NAMESPACE:-}" ]; then
  need=()
  for pkg in pcscd libpcsclite-dev vsmartcard-vpcd iproute2 pkg-config; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
  done
  if [ ${#need[@]} -gt 0 ]; then
    echo "with-pcscd: installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  exec env DOORSTEP_PCSCD_NAMESPACE=1 unshare --net --mount --fork "$0" "$@"
fi

# Inside the namespaces: loopback only, and a /run/pcscd of our own.
ip link set lo up
mkdir -p /run/pcscd
mount -t tmpfs tmpfs /run/pcscd
conf=$(mktemp -d /tmp/doorstep-pcscd.XXXXXX)
port=35963
cat >"$conf/doorstep-vpcd" <<CONF
FRIENDLYNAME "Doorstep virtual reader"
DEVICENAME /dev/null:$port
LIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so
CHANNELID 0
CONF
# DOORSTEP_PCSCD_LOG=FILE keeps pcscd's debug log, APDUs included, for a failing tap.
log="${DOORSTEP_PCSCD_LOG:-$conf/pcscd.log}"
debug=()
[ -n "${DOORSTEP_PCSCD_LOG:-}" ] && debug=(--debug --apdu)
pcscd --foreground "${debug[@]}" --config "$conf" >"$log" 2>&1 &
pcscd_pid=$!
stop() {
  kill "$pcscd_pid" 2>/dev/null || true
  wait "$pcscd_pid" 2>/dev/null || true
  rm -rf "$conf"
}
trap stop EXIT
for _ in $(seq 100); do
  [ -S /run/pcscd/pcscd.comm ] && break
  sleep 0.05
done
if [ ! -S /run/pcscd/pcscd.comm ]; then
  echo "with-pcscd: pcscd did not start" >&2
  cat "$log" >&2
  exit 1
fi
export DOORSTEP_VPCD="127.0.0.1:$port" DOORSTEP_PCSC_READER="Doorstep virtual reader 00 00"
echo "with-pcscd: pcscd with a virtual reader on $DOORSTEP_VPCD"
"$@"
