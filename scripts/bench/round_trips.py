"""What one `POST /v1/expenditures` asks of PostgreSQL, counted at the wire, and what one
client waits for it (issue 21, "latency of one write").

Counting: every connection the app takes from a pool while counting is traced by libpq itself
(`PGconn.trace`): each message the client sends (F) and each the server answers (B). A round
trip is a run of sent messages followed by the server's answer, so a pipelined save (lock,
notify, insert, commit sent together) counts once, as the client waits once. Statements are
the Query and Execute messages sent. Counts do not depend on the machine's load, so they are
comparable between a busy and a quiet run. The write goes through the app in this process
(Starlette's TestClient) with the group commit, as `fundledger serve` runs it, without the view
runner (its catching up is not the request's work). The first requests warm what every server
has after its first minute (a known token, an allocation the committer has written); then
writes are counted warm (an allocation written before), keyed (with an Idempotency-Key) and
cold (an allocation this server never read).

Latency: `python -m scripts.bench.round_trips` also serves the app in uvicorn (views in the
server, as `fundledger serve`; with `--committer`, as `fundledger serve --workers N` does:
a committer process and the views in their own) and drives it with one load client, one
write at a time; it reports p50/p99 and the server's CPU per write, beside the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from api.settings import Settings
from domain.actors import Actor, Role
from domain.ledger import FundLedger

FISCAL_YEAR = 2025
SPENT_ON = date(FISCAL_YEAR, 3, 2)
OFFICER = Actor("rt.officer", frozenset({Role.OFFICER}))
APPROVER = Actor("rt.approver", frozenset({Role.APPROVER}))
ALLOCATIONS = 20  # the latency run's; each warm after its first write
# A warm server has sent its save on each pooled connection (the bench's pool is 20): the first
# time a connection sends it, preparing it is a round trip of its own.
WARM_WRITES = 25
COUNTED_WRITES = 5
LISTEN_WAIT_SECONDS = 5.0
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class WireCount:
    round_trips: int = 0
    statements: int = 0

    def add_trace(self, text: str) -> None:
        previous = ""
        for line in text.splitlines():
            parts = line.split("\t")
            if len(parts) < 3:
                continue
            direction, message = parts[0], parts[2]
            if direction == "B" and previous == "F":
                self.round_trips += 1
            if direction == "F" and message in {"Query", "Execute"}:
                self.statements += 1
            previous = direction


@contextmanager
def traced_pools() -> Iterator[WireCount]:
    """Counts the wire traffic of every pooled connection used inside the block."""
    import psycopg_pool  # noqa: PLC0415  (PostgreSQL only)
    from psycopg import pq  # noqa: PLC0415

    count = WireCount()
    traces: dict[int, tuple[Any, Path]] = {}
    getconn = psycopg_pool.ConnectionPool.getconn

    def traced_getconn(pool: psycopg_pool.ConnectionPool, *args: Any, **kwargs: Any) -> Any:
        connection = getconn(pool, *args, **kwargs)
        if id(connection) not in traces:
            fd, name = tempfile.mkstemp(prefix="fundledger-trace-", suffix=".txt")
            connection.pgconn.trace(fd)
            connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
            traces[id(connection)] = (connection, Path(name))
        return connection

    psycopg_pool.ConnectionPool.getconn = traced_getconn  # type: ignore[method-assign]
    try:
        yield count
    finally:
        psycopg_pool.ConnectionPool.getconn = getconn  # type: ignore[method-assign]
        for connection, path in traces.values():
            connection.pgconn.untrace()  # closes (and so flushes) the trace file
            count.add_trace(path.read_text(errors="replace"))
            path.unlink(missing_ok=True)


def small_world(ledger: FundLedger, allocations: int = ALLOCATIONS) -> tuple[list[UUID], str]:
    """Schools, a fund, an approved allocation each, and an officer's token."""
    fund = "RT-2025"
    ledger.open_fund(OFFICER, code=fund, name="往返计数", fiscal_year=FISCAL_YEAR, unit="CNY",
                     amount=10**12, source="county", category="public_operating",
                     effective_date=date(FISCAL_YEAR, 1, 2))
    ids = []
    with ledger.batch():
        for index in range(allocations):
            ledger.register_school(OFFICER, code=f"RT-{index:04d}", name=f"学校 RT-{index:04d}",
                                   district="Pizhou", level="primary", locale="rural",
                                   poverty_area=False, students=400,
                                   effective_date=date(FISCAL_YEAR, 1, 1))
    with ledger.batch():
        proposed = [ledger.propose_allocation(OFFICER, fund=fund, school=f"RT-{index:04d}",
                                              amount=10**9, purpose="往返计数",
                                              effective_date=date(FISCAL_YEAR, 2, 1))
                    for index in range(allocations)]
    with ledger.batch():
        for outcome in proposed:
            ledger.approve_allocation(APPROVER, outcome.subject.id,
                                      effective_date=date(FISCAL_YEAR, 2, 3))
            ids.append(outcome.subject.id)
    return ids, ledger.add_user(OFFICER.user_id, [Role.OFFICER.value])


def count_one_write(settings: Settings, allocations: Sequence[UUID], token: str
                    ) -> dict[str, WireCount]:
    """Round trips and statements of one `POST /v1/expenditures`: warm, keyed and cold. Writes
    a few expenditures to the first two allocations (the last one must be unread so far)."""
    from fastapi.testclient import TestClient  # noqa: PLC0415

    from api.app import create_app  # noqa: PLC0415

    app = create_app(settings, run_views=False, group_commit=True)
    headers = {"Authorization": f"Bearer {token}"}
    tag = f"{os.getpid()}-{time.monotonic_ns()}"
    serial = iter(range(10**6))

    def post(client: TestClient, allocation: UUID, keyed: bool = False) -> None:
        number = next(serial)
        body = {"allocation": str(allocation), "amount": 100, "payee": "供电公司",
                "voucher": f"RT-{tag}-{number}", "spent_on": SPENT_ON.isoformat()}
        extra = {"Idempotency-Key": f"rt-{tag}-{number}"} if keyed else {}
        answer = client.post("/v1/expenditures", headers={**headers, **extra}, json=body)
        assert answer.status_code == 201, answer.text

    counted: dict[str, WireCount] = {}
    with TestClient(app) as client:
        known = app.state.known_tokens
        deadline = time.monotonic() + LISTEN_WAIT_SECONDS
        while known is not None and not known.listening and time.monotonic() < deadline:
            time.sleep(0.05)  # the token listener connects in the background
        for _ in range(WARM_WRITES):
            post(client, allocations[0])
        for name, allocation, keyed, times in (
                ("warm", allocations[0], False, COUNTED_WRITES),
                ("warm, Idempotency-Key", allocations[0], True, COUNTED_WRITES),
                ("cold allocation", allocations[-1], False, 1)):
            counts = []
            for _ in range(times):
                with traced_pools() as count:
                    post(client, allocation, keyed)
                counts.append(count)
            # The fewest: a statement prepared on one connection is parsed again (one more
            # round trip) the first time another pooled connection sends it.
            counted[name] = min(counts, key=lambda c: (c.round_trips, c.statements))
    return counted


def server_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def one_client_latency(settings: Settings, allocations: Sequence[UUID], token: str, *,
                       seconds: float, warmup_seconds: float,
                       views_apart: bool = True, profile: Path | None = None,
                       clients: int = 1, workers: int = 1,
                       committer: bool = False) -> dict[str, Any]:
    """One client, one write at a time, over HTTP with group commit: p50/p99 and the server's
    CPU (the views' process not counted when `views_apart` or with the `committer`, whose
    own process is counted with the worker's)."""
    from scripts.bench import http_server, profiling  # noqa: PLC0415

    spec = {"kind": "write", "token": token, "run_tag": f"l{os.getpid()}x{time.monotonic_ns()}",
            "allocations": [str(a) for a in allocations], "spent_on": SPENT_ON.isoformat()}
    with http_server.served(settings, group_commit=True, views_apart=views_apart,
                            workers=workers, committer=committer) as server:
        # With the committer: the worker (uvicorn) and the committer, the last of `pids`.
        counted = (server.pid, server.pids[-1]) if committer else (server.pid,)

        def server_cpu() -> float:
            return sum(server_cpu_seconds(pid) for pid in counted)

        before = server_cpu()
        profiler = profiling.record(server.pid, profile, warmup_seconds + seconds) if profile else None
        result = http_server.load(server.port, clients, spec, requests_max=10**6,
                                  seconds_max=seconds,
                                  warmup_seconds=warmup_seconds)
        cpu = server_cpu() - before
        if profiler is not None:
            profiler.wait()
    answered = result["ok"] + result["errors"]
    result["server_cpu_ms_per_write"] = 1000 * cpu / max(1, answered)  # warm-up writes too
    result["load_average"] = os.getloadavg()
    return result


def main(argv: list[str] | None = None) -> int:
    from api.store import open_ledger  # noqa: PLC0415
    from scripts.bench import scratch  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=scratch.DEFAULT_POSTGRES_URL + "_round_trips",
                        help="scratch PostgreSQL database, created and dropped")
    parser.add_argument("--seconds", type=float, default=20.0, help="latency run; 0: counts only")
    parser.add_argument("--warmup-seconds", type=float, default=3.0)
    parser.add_argument("--pool-size", type=int, default=4, help="the server's PostgreSQL pool")
    parser.add_argument("--clients", type=int, default=1, help="load clients (the issue's is 1)")
    parser.add_argument("--workers", type=int, default=1,
                        help="uvicorn workers (more than one: the views in their own process)")
    parser.add_argument("--profile", type=Path, default=None,
                        help="py-spy raw profile of the server while timed")
    parser.add_argument("--committer", action="store_true",
                        help="`fundledger serve --workers N`'s layout: the worker(s) send each "
                             "command to one committer process; the views in their own")
    parser.add_argument("--views-in-server", action="store_true",
                        help="the view runner in a thread of the server (`fundledger serve "
                             "--views-in-server`); by default in a process of its own, as "
                             "`fundledger serve` keeps it on PostgreSQL")
    args = parser.parse_args(argv)
    with scratch.postgres_store(args.database_url) as store:
        settings = store.model_copy(update={"postgres_pool_size": args.pool_size})
        ledger = open_ledger(settings)
        try:
            allocations, token = small_world(ledger)
        finally:
            ledger.close()
        counts = count_one_write(settings, allocations, token)
        report: dict[str, Any] = {name: vars(c) for name, c in counts.items()}
        if args.seconds > 0:
            report["latency"] = one_client_latency(settings, allocations[:-1], token,
                                                   seconds=args.seconds,
                                                   warmup_seconds=args.warmup_seconds,
                                                   views_apart=not args.views_in_server,
                                                   profile=args.profile, clients=args.clients,
                                                   workers=args.workers,
                                                   committer=args.committer)
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
