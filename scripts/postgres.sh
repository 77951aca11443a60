#!/usr/bin/env bash
# A throwaway PostgreSQL server for trying Runboard's ledger by hand (the tests start
# their own, see crates/testdb): installs Debian's postgresql when missing, creates a
# cluster in a temporary folder owned by the postgres user, listening only on a Unix
# socket in that folder, and prints its postgres:// URL. Stop it with the printed command.
#   URL=$(bash scripts/postgres.sh) && RUNBOARD_LEDGER_URL=$URL runboard --config …
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/tools.sh" postgres >&2

BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
DIR="$(mktemp -d /tmp/runboard-pg-XXXXXX)"
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -ne 0 ] || chown postgres:postgres "$DIR"
cd "$DIR"
as_pg "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust --no-sync -E UTF8 >/dev/null
as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
  -o "-c listen_addresses='' -k $DIR" start >/dev/null
as_pg "$BIN/createdb" -h "$DIR" -U postgres runboard
echo "stop with: cd $DIR && runuser -u postgres -- $BIN/pg_ctl -D $DIR/data stop && rm -rf $DIR" >&2
echo "postgres://postgres@localhost/runboard?host=$DIR"
