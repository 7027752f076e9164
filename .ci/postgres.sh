#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on 127.0.0.1 for the index tests; print "URL DATADIR" on stdout
# (`.ci/postgres.sh stop DATADIR` stops it). Installs the Debian package when no server binaries are
# found. Never fails the caller: on any problem it says why on stderr and prints nothing (the
# PostgreSQL tests then skip, naming the reason).
set -uo pipefail
PORT="${DEDUP_TEST_POSTGRES_PORT:-55432}"
say() { echo "postgres: $*" >&2; }
if [ "${1:-}" = stop ]; then
  BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "'$BIN/pg_ctl' -D '$2/db' -m fast stop" >/dev/null 2>&1
  else "$BIN/pg_ctl" -D "$2/db" -m fast stop >/dev/null 2>&1; fi
  rm -rf "$2"; exit 0
fi
while (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do PORT=$((PORT + 1)); done  # a free port
bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
BIN="$(bindir)"
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    say "installing the postgresql package"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2 || say "install failed"
    BIN="$(bindir)"
  fi
fi
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then say "no PostgreSQL server binaries; tests will skip"; exit 0; fi
DATA="$(mktemp -d /tmp/dedup-pg.XXXXXX)"
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres >&2 || true
  chown postgres "$DATA"
  RUN=(su postgres -s /bin/sh -c)
else
  RUN=(sh -c)
fi
"${RUN[@]}" "'$BIN/initdb' -D '$DATA/db' --username=dedup --auth=trust -E UTF8 >'$DATA/initdb.log' 2>&1" \
  || { say "initdb failed: $(tail -3 "$DATA/initdb.log")"; exit 0; }
"${RUN[@]}" "'$BIN/pg_ctl' -D '$DATA/db' -l '$DATA/server.log' -w -t 60 start -o \"-k /tmp -h 127.0.0.1 -p $PORT -c fsync=on\" >/dev/null" \
  || { say "server did not start: $(tail -3 "$DATA/server.log")"; exit 0; }
"${RUN[@]}" "'$BIN/createdb' -h 127.0.0.1 -p $PORT -U dedup dedup_test" || { say "createdb failed"; exit 0; }
echo "postgresql://dedup@127.0.0.1:$PORT/dedup_test $DATA"
