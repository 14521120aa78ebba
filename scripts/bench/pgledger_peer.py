"""pgledger (a ledger written as PostgreSQL functions, pgr0ss/pgledger, vendored under
scripts/bench/pgledger/) as the peer of fundledger's writes, measured in the same run on the
same PostgreSQL server: a scratch database of its own, ACCOUNTS accounts, clients each on its
own connection making transfers between random accounts — one `pgledger_create_transfer` per
call, or `pgledger_create_transfers` of many per call beside our batch endpoint. Every call is
its own committed transaction (autocommit), as durable as our writes.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from scripts.bench.figures import percentile
from scripts.bench.scratch import admin, conninfo, refuse_if_in_use, scratch_database_name

SOURCE = Path(__file__).with_name("pgledger")
# Loaded in this order: the ULID helpers pgledger's ids are made with, then pgledger itself.
SQL_FILES = ("vendor/scoville-pgsql-ulid/ulid-to-uuid.sql",
             "vendor/scoville-pgsql-ulid/uuid-to-ulid.sql", "pgledger.sql")
ACCOUNTS = 2_000  # as many as the bureau's schools
AMOUNT_MAX = 99_999
JOIN_SLACK_SECONDS = 60.0
ONE = "SELECT id FROM pgledger_create_transfer(%s, %s, %s)"
# A batch as one call: the requests travel as three arrays and become TRANSFER_REQUESTs.
MANY = ("SELECT count(*) FROM pgledger_create_transfers(ARRAY(SELECT ROW(f, t, a)::transfer_request "
        "FROM unnest(%s::text[], %s::text[], %s::numeric[]) AS u(f, t, a)))")


@dataclass
class PeerRun:
    transfers: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # per call
    errors: int = 0
    first_error: str = ""

    @property
    def per_second(self) -> float:
        return self.transfers / self.seconds if self.seconds > 0 else 0.0

    def p(self, fraction: float) -> float:
        return percentile(self.latencies, fraction) * 1000


@contextmanager
def installed(postgres_url: str) -> Iterator[tuple[str, list[str]]]:
    """A scratch database with pgledger and its accounts: (conninfo, account ids); dropped
    afterwards. Named after the run's own scratch database (`fundledger_bench_pgledger` by
    default), so that two runs on two databases do not share it."""
    database = f"{scratch_database_name(postgres_url)}_pgledger"
    refuse_if_in_use(postgres_url, database)
    drop = f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'
    admin(postgres_url, drop)
    admin(postgres_url, f'CREATE DATABASE "{database}"')
    try:
        target = conninfo(postgres_url, database)
        with psycopg.connect(target, autocommit=True) as connection:
            for name in SQL_FILES:
                connection.execute((SOURCE / name).read_text(encoding="utf-8"))  # type: ignore[arg-type]
            accounts = [row[0] for row in connection.execute(
                "SELECT (pgledger_create_account('bench-' || g, 'CNY')).id "
                "FROM generate_series(1, %s) AS g", (ACCOUNTS,))]
        yield target, accounts
    finally:
        admin(postgres_url, drop)


def transfers(target: str, accounts: list[str], *, clients: int, per_call: int,
              calls_max: int, seconds_max: float, warmup_seconds: float) -> PeerRun:
    """`clients` threads, each on its own connection, call pgledger until `calls_max` calls
    are done or `seconds_max` pass (after `warmup_seconds` not recorded)."""
    run = PeerRun()
    lock = threading.Lock()
    issued = 0
    start = time.monotonic()
    measured_from = start + warmup_seconds
    deadline = measured_from + seconds_max

    def client(index: int) -> None:
        nonlocal issued
        rng = random.Random(index)
        latencies: list[float] = []
        with psycopg.connect(target, autocommit=True) as connection:
            while (now := time.monotonic()) < deadline:
                if now >= measured_from:
                    with lock:
                        if issued >= calls_max:
                            break
                        issued += 1
                pairs = [rng.sample(accounts, 2) for _ in range(per_call)]
                amounts = [rng.randint(1, AMOUNT_MAX) for _ in range(per_call)]
                started = time.perf_counter()
                try:
                    if per_call == 1:
                        connection.execute(ONE, (pairs[0][0], pairs[0][1], amounts[0])).fetchall()
                    else:
                        connection.execute(MANY, ([p[0] for p in pairs], [p[1] for p in pairs],
                                                  amounts)).fetchall()
                except psycopg.Error as error:
                    with lock:
                        run.errors += 1
                        run.first_error = run.first_error or str(error)[:200]
                    continue
                if time.monotonic() >= measured_from:
                    latencies.append(time.perf_counter() - started)
        with lock:
            run.latencies += latencies

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(warmup_seconds + seconds_max + JOIN_SLACK_SECONDS)
    run.seconds = max(min(time.monotonic(), deadline) - measured_from, 1e-9)
    run.transfers = len(run.latencies) * per_call
    return run
