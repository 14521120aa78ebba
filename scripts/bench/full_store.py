"""`python -m scripts.bench.full_store --scale 1 --database-url URL`: a store that stays, filled
as `fundledger demo` fills one (the year generated, the views built, the demo's audit anomalies
injected, the year closed, the views caught up) but with the whole preset's schools in one
store, as the full-size screens bench (scripts/bench/screens.py) reads it.

Unlike the benchmark's scratch stores it is neither created afresh nor dropped: a SQLite file is
made where the URL says, a PostgreSQL database on the local server is created when missing, and
a store that already holds events is refused. Progress goes to stderr every few seconds; the
phases' wall and CPU seconds are printed at the end (the demo's "≤ 3 min" evidence at scale 1).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from urllib.parse import urlsplit

from api.settings import Settings
from api.store import open_ledger
from scripts.bench.demo_phases import print_phases, run_phases
from scripts.bench.scratch import LOCAL_HOSTS, admin

PROGRESS_SECONDS = 15.0


def ensure_database(url: str) -> None:
    """Creates the PostgreSQL database the URL names on the local server, if it is missing."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        return
    if (parts.hostname or "127.0.0.1") not in LOCAL_HOSTS:
        sys.exit(f"only a local PostgreSQL (127.0.0.1), not {parts.hostname}")
    import psycopg  # noqa: PLC0415  (only when PostgreSQL is filled)

    from scripts.bench.scratch import conninfo  # noqa: PLC0415

    name = parts.path.removeprefix("/")
    with psycopg.connect(conninfo(url, "postgres"), autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    if not exists:
        admin(url, f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True,
                        help="sqlite:////work/stores/full.sqlite or postgresql://…/fundledger_full")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--preset", default="xuzhou")
    args = parser.parse_args()
    ensure_database(args.database_url)
    settings = Settings(database_url=args.database_url, postgres_pool_size=4)
    ledger = open_ledger(settings)
    try:
        held = ledger.last_position()
    finally:
        ledger.close()
    if held:
        sys.exit(f"the store already holds {held:,} events: not filling it")

    started, shown = time.monotonic(), [0.0]

    def progress(done: int, total: int, what: str) -> None:
        now = time.monotonic()
        if now - shown[0] >= PROGRESS_SECONDS or done == total:
            shown[0] = now
            print(f"{now - started:7.0f} s  {what}: {done:,} of {total:,}  "
                  f"(CPU {time.process_time():.0f} s, load {os.getloadavg()[0]:.1f})",
                  file=sys.stderr, flush=True)

    rows, truth = run_phases(settings, preset=args.preset, seed=args.seed, scale=args.scale,
                             progress=progress)
    print(f"{args.database_url}: scale {args.scale}, {len(truth)} injected anomalies, "
          f"load {os.getloadavg()[0]:.1f} at the end")
    print_phases(rows)


if __name__ == "__main__":
    main()
