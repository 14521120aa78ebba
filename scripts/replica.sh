#!/usr/bin/env bash
# A streaming read replica of this machine's PostgreSQL, for FUNDLEDGER_VIEWS_READ_URL
# (docs/deployment.md, "A read replica"): a hot standby made with pg_basebackup -R in a
# throwaway directory, on a port of its own, following the primary through a replication slot.
#
#   scripts/replica.sh start [--port 5442] [--dir DIR] [--database NAME] [--allow-replication]
#   scripts/replica.sh stop  [--port 5442] [--dir DIR]
#
# `start` prints the replica's URL as its last line (FUNDLEDGER_VIEWS_READ_URL=postgresql://…)
# once the standby accepts read-only connections and streams; run again while it runs, it
# prints the URL again. `stop` stops the standby, drops its slot on the primary (a slot left
# behind keeps the primary's WAL forever) and removes the directory.
#
# The primary (PRIMARY_HOST:PRIMARY_PORT, 127.0.0.1:5432, user postgres) needs wal_level
# replica or logical and a free WAL sender (both need a restart to change: the script says so
# and stops), and a pg_hba.conf entry that lets 127.0.0.1 connect for replication: missing, the
# script prints the line; with --allow-replication it appends it, as trusting as the primary's
# own 127.0.0.1 entry, and reloads the primary's configuration (no restart).
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PRIMARY_HOST=${PRIMARY_HOST:-127.0.0.1}
PRIMARY_PORT=${PRIMARY_PORT:-5432}
PRIMARY_USER=${PRIMARY_USER:-postgres}
READY_SECONDS_MAX=${READY_SECONDS_MAX:-60}

verb=${1:-}
shift || true
port=5442
dir=""
database=""
allow_replication=0
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --database) database=$2; shift 2 ;;
    --allow-replication) allow_replication=1; shift ;;
    *) echo "replica.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
dir=${dir:-/tmp/fundledger-replica-$port}
data=$dir/data
slot=fundledger_replica_$port
if [ -z "$database" ]; then
  # The database of the configured store, so the URL printed is the one to set.
  url=${FUNDLEDGER_DATABASE_URL:-}
  database=postgres
  case "$url" in postgres*://*/?*) database=${url##*/}; database=${database%%\?*} ;; esac
fi

say() { echo "replica.sh: $*" >&2; }
fail() { say "$*"; exit 1; }

# pg_ctl and postgres refuse to run as root: the cluster's own account runs them, as
# pg_ctlcluster does for the primary (scripts/ensure_postgres.sh).
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
primary() {
  "$PG_BIN/psql" -X -q -At -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U "$PRIMARY_USER" \
    -d postgres -v ON_ERROR_STOP=1 -c "$1"
}
replica() {
  "$PG_BIN/psql" -X -q -At -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "$1" 2>/dev/null
}
replica_url() { echo "FUNDLEDGER_VIEWS_READ_URL=postgresql://postgres@127.0.0.1:$port/$database"; }

drop_slot() {
  primary "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
           WHERE slot_name = '$slot' AND NOT active" >/dev/null || true
}

stop() {
  if [ -f "$data/postmaster.pid" ]; then
    as_owner "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  fi
  drop_slot
  case "$dir" in /tmp/*|/var/tmp/*) rm -rf "$dir" ;; *) rm -rf "$data" "$dir/log" ;; esac
}

replication_allowed() {
  "$PG_BIN/psql" -X -q -At "host=$PRIMARY_HOST port=$PRIMARY_PORT user=$PRIMARY_USER replication=true" \
    -c "IDENTIFY_SYSTEM" >/dev/null 2>&1
}

check_primary() {
  "$PG_BIN/pg_isready" -q -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" \
    || fail "the primary $PRIMARY_HOST:$PRIMARY_PORT does not answer (scripts/ensure_postgres.sh starts it)"
  local wal_level senders used
  wal_level=$(primary "SHOW wal_level")
  senders=$(primary "SHOW max_wal_senders")
  used=$(primary "SELECT count(*) FROM pg_stat_replication")
  case "$wal_level" in replica|logical) ;; *)
    fail "the primary has wal_level = $wal_level; a standby needs replica. Set it and restart the
  primary (it cannot change without a restart): ALTER SYSTEM SET wal_level = 'replica'" ;;
  esac
  [ "$senders" -gt "$used" ] || fail "the primary's $senders WAL sender(s) are all in use; raise
  max_wal_senders (ALTER SYSTEM SET max_wal_senders = $((used + 2))) and restart the primary"
  if ! replication_allowed; then
    local hba line
    hba=$(primary "SHOW hba_file")
    line="host replication $PRIMARY_USER $PRIMARY_HOST/32 trust"
    if [ "$allow_replication" = 0 ]; then
      fail "the primary refuses replication connections from $PRIMARY_HOST. Add to $hba:
    $line
  then reload it (no restart): psql -h $PRIMARY_HOST -U $PRIMARY_USER -c 'SELECT pg_reload_conf()'
  (or run this script with --allow-replication, which does both)"
    fi
    say "adding '$line' to $hba and reloading the primary's configuration"
    printf '%s\n' "$line" >>"$hba"
    primary "SELECT pg_reload_conf()" >/dev/null
    for _ in $(seq 1 20); do replication_allowed && return 0; sleep 0.25; done
    fail "the primary still refuses replication connections after the reload (see $hba)"
  fi
}

running() {
  [ -f "$data/postmaster.pid" ] && as_owner "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1
}

start() {
  [ -x "$PG_BIN/pg_basebackup" ] || fail "no PostgreSQL binaries in $PG_BIN (set PG_BIN)"
  if running; then
    replica_url
    return 0
  fi
  check_primary
  stop  # what a crashed run left: its directory, its slot
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  chmod 700 "$dir"
  # Hot standby refuses to start with fewer of these than the primary has.
  local limits
  limits=$(primary "SELECT string_agg(name || ' = ' || setting, E'\n') FROM pg_settings
                    WHERE name IN ('max_connections', 'max_worker_processes', 'max_wal_senders',
                                   'max_prepared_transactions', 'max_locks_per_transaction')")
  say "copying the primary $PRIMARY_HOST:$PRIMARY_PORT into $data (pg_basebackup, slot $slot)"
  as_owner "$PG_BIN/pg_basebackup" -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U "$PRIMARY_USER" \
    -D "$data" -X stream -R -C -S "$slot" --checkpoint=fast --no-sync \
    || { drop_slot; fail "pg_basebackup failed (above)"; }
  # A Debian primary keeps postgresql.conf and pg_hba.conf in /etc: the copy has neither.
  as_owner tee "$data/postgresql.conf" >/dev/null <<EOF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
hot_standby = on
hot_standby_feedback = on
shared_buffers = 64MB
logging_collector = off
$limits
EOF
  as_owner tee "$data/pg_hba.conf" >/dev/null <<EOF
local all all trust
host all all 127.0.0.1/32 trust
EOF
  as_owner touch "$data/pg_ident.conf"
  as_owner "$PG_BIN/pg_ctl" -D "$data" -l "$dir/log" -w -t "$READY_SECONDS_MAX" start >/dev/null \
    || { tail -20 "$dir/log" >&2 || true; stop; fail "the standby did not start (its log above)"; }
  local waited=0
  until [ "$(replica "SELECT pg_is_in_recovery() AND EXISTS (SELECT FROM pg_stat_wal_receiver
                                                           WHERE status = 'streaming')")" = t ]; do
    waited=$((waited + 1))
    if [ "$waited" -gt $((READY_SECONDS_MAX * 4)) ]; then
      tail -20 "$dir/log" >&2 || true
      stop
      fail "the standby did not stream from the primary within $READY_SECONDS_MAX s"
    fi
    sleep 0.25
  done
  say "streaming; stop with: scripts/replica.sh stop --port $port --dir $dir"
  replica_url
}

case "$verb" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: scripts/replica.sh start|stop [--port N] [--dir DIR] [--database NAME] [--allow-replication]" >&2
     exit 2 ;;
esac
