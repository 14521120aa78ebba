#!/usr/bin/env bash
# Makes the local PostgreSQL available for the tests: starts this machine's cluster if it is
# stopped, and waits for it. Fails (exit 1) when CI=true and none can be had.
set -u
host=${PGHOST_TEST:-127.0.0.1}
for attempt in $(seq 1 30); do
  if pg_isready -q -h "$host" -p 5432 2>/dev/null; then exit 0; fi
  if [ "$attempt" = 1 ] && [ -d /etc/postgresql ]; then
    for version in $(ls /etc/postgresql); do
      pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
    done
  fi
  sleep 1
done
echo "PostgreSQL is not reachable on $host:5432" >&2
if [ "${CI:-}" = "true" ]; then exit 1; fi
exit 0
