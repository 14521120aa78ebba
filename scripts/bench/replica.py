"""Reads on a streaming replica (issue 15): a generated bureau on this machine's PostgreSQL,
a hot standby of it started with scripts/replica.sh, then

- the balance read (p50/p99, in-process through the views' queries, as the `reads` part
  measures it) on the primary and on the replica, twice each, alternating;
- how long a write takes to be readable: an expenditure written through the ledger, one at a
  time, with the view runner following in a thread; for each, the time until the primary's
  views have it and until the replica's views have it (what a `min_position` read waits);
  and PostgreSQL's own `replay_lag` for the standby (pg_stat_replication).

    python -m scripts.bench.replica --store postgresql://postgres@127.0.0.1:5432/fundledger_replica

The primary must allow replication from 127.0.0.1 (scripts/replica.sh says how); the replica
is stopped and its slot dropped at the end. Re-running reuses the generated bureau.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import threading
import time
from datetime import date
from pathlib import Path

import psycopg
from psycopg import sql

from api.settings import Settings
from api.store import open_ledger, open_views_reader
from domain.actors import Actor, Role
from projections.database import ViewDatabase
from projections.queries import BureauQueries
from projections.runner import ViewRunner
from scripts.bench.bureaus import FISCAL_YEAR, fill
from scripts.bench.figures import percentile
from scripts.bench.reads import balance_reads

OFFICER = Actor("bench.officer", frozenset({Role.OFFICER}))
SCRIPT = Path(__file__).resolve().parents[1] / "replica.sh"
POLL_SECONDS = 0.0005
REACHED_SECONDS_MAX = 30.0


def load() -> str:
    return "load " + " ".join(f"{value:.1f}" for value in os.getloadavg())


def replica_script(*arguments: str, capture: bool = True) -> subprocess.CompletedProcess[str]:
    bash = shutil.which("bash") or "/bin/bash"
    return subprocess.run([bash, str(SCRIPT), *arguments],  # noqa: S603  (our own script)
                          capture_output=capture, text=True, check=False)


def start_replica(database: str, port: int) -> str:
    done = replica_script("start", "--port", str(port), "--database", database)
    if done.returncode:
        raise SystemExit(done.stderr)
    return done.stdout.strip().splitlines()[-1].split("=", 1)[1]


def reached(queries: BureauQueries, position: int) -> float:
    """When (perf_counter) the views of `queries` had `position`."""
    deadline = time.perf_counter() + REACHED_SECONDS_MAX
    while queries.position() < position:
        if time.perf_counter() > deadline:
            msg = f"the views did not reach {position} in {REACHED_SECONDS_MAX} s"
            raise SystemExit(msg)
        time.sleep(POLL_SECONDS)
    return time.perf_counter()


def an_allocation(settings: Settings, amount_min: int) -> str:
    db = ViewDatabase.open(settings)
    try:
        return str(db.scalar("SELECT allocation_id FROM allocations WHERE status = 'approved' "
                             "AND allocated - spent >= ? ORDER BY allocation_id LIMIT 1", (amount_min,)))
    finally:
        db.close()


def visibility(settings: Settings, replica: Settings, writes: int) -> dict[str, list[float]]:
    """Seconds from a write's return until the primary's, then the replica's views have it."""
    from uuid import UUID  # noqa: PLC0415

    ledger = open_ledger(settings, clock=lambda: date(FISCAL_YEAR, 12, 31))
    runner = ViewRunner(settings, ledger=ledger)
    stop = threading.Event()
    thread = threading.Thread(target=runner.run_forever, args=(stop, 0.02), daemon=True)
    primary, standby = open_views_reader(settings), open_views_reader(replica)
    allocation = UUID(an_allocation(settings, writes))
    seen: dict[str, list[float]] = {"primary": [], "replica": [], "replica after primary": []}
    thread.start()
    try:
        for n in range(writes):
            outcome = ledger.record_expenditure(
                OFFICER, allocation=allocation, amount=1, payee="徐州供电公司",
                voucher=f"RPL-{time.time_ns()}-{n}", spent_on=date(FISCAL_YEAR, 12, 1))
            written = time.perf_counter()
            at_primary = reached(primary, outcome.position)
            at_replica = reached(standby, outcome.position)
            seen["primary"].append(at_primary - written)
            seen["replica"].append(at_replica - written)
            seen["replica after primary"].append(at_replica - at_primary)
    finally:
        stop.set()
        thread.join(10)
        runner.close()
        primary.close()
        standby.close()
        ledger.close()
    return seen


def replay_lag(settings: Settings, port: int) -> str:
    with psycopg.connect(settings.database_url, autocommit=True) as connection:
        found = connection.execute(
            "SELECT r.write_lag, r.flush_lag, r.replay_lag FROM pg_stat_replication r "
            "JOIN pg_replication_slots s ON s.active_pid = r.pid WHERE s.slot_name = %s",
            (f"fundledger_replica_{port}",)).fetchone()
    return "not streaming" if found is None else (
        f"write {found[0]}, flush {found[1]}, replay {found[2]} (pg_stat_replication)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, help="postgresql://… (a database of its own)")
    parser.add_argument("--schema", default="bench_replica")
    parser.add_argument("--schools", type=int, default=200)
    parser.add_argument("--vouchers", type=float, default=1.0)
    parser.add_argument("--port", type=int, default=5444)
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--keys", type=Path, default=Path("var/bench-replica"))
    options = parser.parse_args()
    database = options.store.rsplit("/", 1)[1]
    with psycopg.connect(options.store.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is None:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    with psycopg.connect(options.store, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
            sql.Identifier(options.schema)))
    settings = Settings(database_url=options.store, postgres_schema=options.schema,
                        signing_key_path=options.keys / "signing-key.pem", postgres_pool_size=2)
    made = fill(settings, settings.bureau, 1, options.schools, options.vouchers)
    print(f"bureau: {made:,} events generated" if made else "bureau: reused", flush=True)
    started = time.perf_counter()
    url = start_replica(database, options.port)
    print(f"replica {url}: streaming {time.perf_counter() - started:.1f} s after the start "
          f"({load()})", flush=True)
    replica = settings.model_copy(update={"views_read_url": url})
    try:
        queries = BureauQueries(settings)
        try:
            codes = [row.code for row in queries.list_schools(limit=1000)[0]]
        finally:
            queries.close()
        print("| reads | p50 ms | p99 ms | reads | load |\n|---|---|---|---|---|")
        for _ in range(2):
            for name, where in (("primary", settings), ("replica", replica)):
                p50, p99, count = balance_reads(where, codes, FISCAL_YEAR, as_of=None,
                                                reads_max=options.reads, seconds_max=30)
                print(f"| balance read, {name} | {p50:.2f} | {p99:.2f} | {count} | {load()} |",
                      flush=True)
        seen = visibility(settings, replica, options.writes)
        print(f"\n| a write readable ({options.writes} writes, one at a time) | p50 ms | p99 ms "
              "| max ms |\n|---|---|---|---|")
        for name, seconds in seen.items():
            print(f"| {name} | {percentile(seconds, 0.5) * 1000:.1f} | "
                  f"{percentile(seconds, 0.99) * 1000:.1f} | {max(seconds) * 1000:.1f} |")
        print(f"\n{replay_lag(settings, options.port)}; {load()}")
    finally:
        replica_script("stop", "--port", str(options.port), capture=False)


if __name__ == "__main__":
    main()
