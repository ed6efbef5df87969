#!/usr/bin/env bash
# Start a throw-away PostgreSQL server for meterread's tests and print the URL to use.
# Idempotent: installs Debian's postgresql if missing, reuses the data dir and a running server.
#   eval "$(scripts/postgres.sh)"      # logs go to stderr; stdout is the export line
#   .venv/bin/python -m pytest tests/api   # runs every DB test on SQLite and PostgreSQL
# Settings (env): PGPORT_MR (55432), PGDATA_MR (/tmp/meterread-pg), PGDB_MR (meterread_test),
#                 PGUSER_MR (meterread), PGPASS_MR (meterread)
set -euo pipefail

PORT="${PGPORT_MR:-55432}"
DATA="${PGDATA_MR:-/tmp/meterread-pg}"
DB="${PGDB_MR:-meterread_test}"
USER_NAME="${PGUSER_MR:-meterread}"
PASS="${PGPASS_MR:-meterread}"
LOG="$DATA.log"

log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
    done
    local initdb
    initdb="$(command -v initdb 2>/dev/null || true)"
    if [ -n "$initdb" ]; then dirname "$(readlink -f "$initdb")"; return 0; fi
    return 1
}

BINDIR="$(find_bindir || true)"
if [ -z "$BINDIR" ]; then
    log "installing postgresql (apt-get)"
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null 2>&1 || { log "need root (or sudo) to install postgresql"; exit 1; }
        SUDO="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >&2
    # no auto-created cluster: we make our own under $DATA
    $SUDO mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.d/99-meterread.conf >/dev/null
    $SUDO apt-get install -y -qq --no-install-recommends postgresql >&2
    BINDIR="$(find_bindir)" || { log "postgresql installed but no initdb/pg_ctl found"; exit 1; }
fi
log "using $BINDIR"

# the server refuses to run as root: run it as a plain user (postgres if present)
RUN_AS=""
if [ "$(id -u)" = 0 ]; then
    if ! id postgres >/dev/null 2>&1; then useradd --system --home /var/lib/postgresql --shell /bin/bash postgres; fi
    RUN_AS="postgres"
fi
as_pg() {
    if [ -n "$RUN_AS" ]; then runuser -u "$RUN_AS" -- "$@"; else "$@"; fi
}

if [ ! -s "$DATA/PG_VERSION" ]; then
    log "initdb in $DATA"
    mkdir -p "$DATA"
    [ -n "$RUN_AS" ] && chown "$RUN_AS" "$DATA"
    chmod 700 "$DATA"
    as_pg "$BINDIR/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >&2 \
        || as_pg "$BINDIR/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --no-locale >&2
fi
touch "$LOG"; [ -n "$RUN_AS" ] && chown "$RUN_AS" "$LOG"

if as_pg "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    log "server already running"
else
    log "starting server on 127.0.0.1:$PORT"
    as_pg "$BINDIR/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
        -o "-p $PORT -c listen_addresses=127.0.0.1 -k /tmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >&2
fi

PSQL=("$BINDIR/psql" -h 127.0.0.1 -p "$PORT" -U postgres -v ON_ERROR_STOP=1 -qtA)
if [ "$(as_pg "${PSQL[@]}" -d postgres -c "SELECT 1 FROM pg_roles WHERE rolname='$USER_NAME'")" != 1 ]; then
    as_pg "${PSQL[@]}" -d postgres -c "CREATE ROLE \"$USER_NAME\" LOGIN PASSWORD '$PASS' CREATEDB" >&2
fi
if [ "$(as_pg "${PSQL[@]}" -d postgres -c "SELECT 1 FROM pg_database WHERE datname='$DB'")" != 1 ]; then
    as_pg "${PSQL[@]}" -d postgres -c "CREATE DATABASE \"$DB\" OWNER \"$USER_NAME\"" >&2
fi

URL="postgresql+psycopg://$USER_NAME:$PASS@127.0.0.1:$PORT/$DB"
log "ready; stop with: runuser -u postgres -- $BINDIR/pg_ctl -D $DATA stop"
echo "export TEST_POSTGRES_URL=$URL"
