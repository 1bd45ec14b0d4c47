#!/usr/bin/env bash
# Runs a command with a private PostgreSQL 15 (Debian's package) started in a temporary data
# directory, reachable only through a Unix socket in that directory, and stopped afterwards
# whatever the command's result. The command sees DOORSTEP_TEST_POSTGRES_URL.
#
#   scripts/with-postgres.sh cargo test --workspace
set -euo pipefail

pg_bin=/usr/lib/postgresql/15/bin
if [ ! -x "$pg_bin/postgres" ]; then
  echo "with-postgres: installing postgresql-15"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
fi

# PostgreSQL refuses to run as root; run it as the package's own user when we are root.
as_pg=()
if [ "$(id -u)" = 0 ]; then
  as_pg=(runuser -u postgres --)
fi

dir=$(mktemp -d /tmp/doorstep-pg.XXXXXX)
chmod 755 "$dir"
[ "$(id -u)" = 0 ] && chown postgres: "$dir"

stop() {
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

"${as_pg[@]}" "$pg_bin/initdb" -D "$dir/data" -U doorstep --auth=trust -E UTF8 >/dev/null
# No TCP at all: the socket lives in the temporary directory.
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-c listen_addresses='' -k $dir -c fsync=on -c max_connections=300" start >/dev/null
"${as_pg[@]}" "$pg_bin/createdb" -h "$dir" -U doorstep doorstep

export DOORSTEP_TEST_POSTGRES_URL="postgres://doorstep@localhost/doorstep?host=$dir"
echo "with-postgres: PostgreSQL 15 at $dir"
"$@"
