"""The eight parts of the benchmark (issue 6), each adding its figures to the report."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.settings import Settings
from domain.ledger import FundLedger
from domain.snapshot_keeping import keep_snapshots_of
from scripts.bench import http_server, profiling, raw_postgres, round_trips
from scripts.bench.beancount_peer import write_ledger
from scripts.bench.figures import Figure, Report, Target
from scripts.bench.logged_versions import logged_versions
from scripts.bench.reads import AS_OF, balance_reads
from scripts.bench.workload import FISCAL_YEAR, SPENT_ON, Workload
from scripts.bench.writes import bulk_batches, csv_import, threaded_writes

CHILD_SECONDS_MAX = 3600
CONCURRENCY = (1, 16, 64)
HTTP_WORKERS = 2  # uvicorn workers of the multi-process row: one per core of the reference machine
HTTP_WORKER_POOL_SIZE = 8  # connections per process of that row
IMPORT_ROWS_MAX = 5_000
WRITES = "1 writes in-process"
HTTP = "1-2 HTTP writes"
RAW = "3 raw psycopg"
BULK = "4 bulk import"
REBUILD = "5 rebuild"
READS = "6 reads"
VERIFY = "7 verify"
PEER = "8 beancount"
YEAR_END = "9 year-end close"


@dataclass(frozen=True)
class Bounds:
    """Every measurement is bounded in count and in time."""

    write_seconds: float
    write_count_max: int
    warmup_seconds: float
    bulk_events_max: int
    reads_max: int
    read_seconds: float
    raw_single_rows: int
    raw_many_rows: int
    raw_copy_rows: int
    raw_seconds: float
    import_rows: int
    concurrency: tuple[int, ...] = CONCURRENCY  # callers / HTTP clients, each measured
    batch_clients: int = 8  # clients of POST /v1/expenditures/batch (issue 21)
    batch_size: int = 500  # expenditures per batch request

    @classmethod
    def quick(cls) -> Bounds:
        return cls(4.0, 20_000, 1.0, 30_000, 2_000, 3.0, 3_000, 100_000, 200_000, 5.0, 5_000)

    @classmethod
    def toy(cls) -> Bounds:
        """For the CI smoke test: every part runs, none measures anything worth quoting."""
        return cls(0.3, 200, 0.2, 400, 50, 0.3, 50, 2_000, 2_000, 0.5, 50, concurrency=(1, 4),
                   batch_clients=2, batch_size=20)

    @classmethod
    def full(cls) -> Bounds:
        # 5,000 CSV rows (20,000 events in one atomic save): at 50,000 rows (200,000 events)
        # the save hung in psycopg's pipeline (psycopg#685; see docs/benchmarks.md).
        return cls(15.0, 200_000, 2.0, 300_000, 10_000, 10.0, 20_000, 1_000_000, 1_000_000, 15.0,
                   IMPORT_ROWS_MAX)


@dataclass
class Context:
    report: Report
    settings: Settings
    store: str
    bounds: Bounds
    workload: Workload
    profile_dir: Path | None = None
    views_followed: int | None = None  # the views' own process beside the generator: its position
    # beancount's file, written from the views the rebuild just built: the peer loads the same
    # log the rebuild replayed, not the larger one the write parts leave behind them.
    peer_ledger: Path | None = None
    peer_transactions: int = 0
    wants_peer: bool = False

    def key(self, part: str, name: str) -> str:
        return f"{self.store}:{part}:{name}"


def bulk_import(ctx: Context, ledger: FundLedger) -> None:
    workload = ctx.workload
    years = workload.years
    span = (f"{years[-1].shape.vouchers_per_school_month}" if len(years) == 1 else
            f"{min(y.shape.vouchers_per_school_month for y in years)}–"
            f"{max(y.shape.vouchers_per_school_month for y in years)}")
    name = ("generator: a year, day batches ≤ 4,000 commands" if len(years) == 1 else
            f"generator: {len(years)} years, each closed into the next, day batches ≤ 4,000 commands")
    ctx.report.add(Figure(
        BULK, name, ctx.store, workload.events / workload.seconds, "events/s", Target(50_000),
        baseline="postgres:3 raw psycopg:executemany, 1,000 rows per commit",
        detail=f"{workload.events:,} events in {workload.seconds:.1f} s, {workload.span()} "
               f"(scale {workload.shape.scale}, {span} vouchers/school/month"
               + (")" if ctx.views_followed is None else
                  f"; the views' own process followed meanwhile, to position {ctx.views_followed:,})")))
    if len(years) > 1:  # each year's own rate: does the generator slow as the log grows?
        for year in years:
            ctx.report.add(Figure(
                BULK, f"generator: fiscal year {year.fiscal_year}", ctx.store,
                year.events / year.seconds, "events/s",
                detail=f"{year.events:,} events in {year.seconds:.1f} s "
                       f"({year.shape.vouchers_per_school_month} vouchers/school/month"
                       + (", its close and carried vouchers included)" if year.closed else ")")))
    events, seconds = bulk_batches(ledger, ctx.workload, commands_per_batch=1000,
                                   events_max=ctx.bounds.bulk_events_max,
                                   seconds_max=ctx.bounds.write_seconds * 3)
    ctx.report.add(Figure(
        BULK, "ledger.batch() of 1,000 expenditures", ctx.store, events / seconds, "events/s",
        Target(50_000), baseline="postgres:3 raw psycopg:executemany, 1,000 rows per commit",
        detail=f"{events:,} events in {seconds:.1f} s"))
    events, seconds = csv_import(ledger, ctx.workload, rows=ctx.bounds.import_rows)
    ctx.report.add(Figure(
        BULK, f"CSV import of {ctx.bounds.import_rows:,} expenditures", ctx.store,
        events / seconds, "events/s", Target(50_000),
        baseline=ctx.key(BULK, "ledger.batch() of 1,000 expenditures"),
        detail=f"{events:,} events in {seconds:.1f} s, parsing and checks included"))


def year_end(ctx: Context, ledger: FundLedger) -> None:
    """Closes the generated year in one all-or-nothing command (docs/year-end.md): every
    allocation of every money fund carried over (basic) or recovered as surplus (projects).
    Last of the parts: the year is closed afterwards. The close runs in a process of its own,
    set up as a server's worker is (scripts/bench/child.py says why)."""
    from scripts.generator.year_end import open_next_year, release_ineligible_remainders  # noqa: PLC0415

    next_year = open_next_year(ledger, FISCAL_YEAR, ctx.workload.fund_codes)
    release_ineligible_remainders(ledger, FISCAL_YEAR, ctx.workload.fund_codes)
    # The generator and the rebuild ran with no runner following the log, so the snapshots a
    # served store's runner keeps as writes arrive (domain/snapshot_keeping.py) are kept now,
    # outside the close's time and reported beside it.
    keeping = time.perf_counter()
    kept = keep_snapshots_of(ledger, logged_versions(ledger, min(ledger.snapshots_kept_every.values())))
    keeping = time.perf_counter() - keeping
    asked = {"fiscal_year": FISCAL_YEAR, "funds": ctx.workload.fund_codes,
             "next_year_funds": next_year}
    profile = ctx.profile_dir / f"{ctx.store}-close.txt" if ctx.profile_dir else None
    result = child("close", ctx.settings.database_url, profile, extra=json.dumps(asked))
    seconds = result["seconds"]
    ctx.report.add(Figure(
        YEAR_END, "close the generated year (one command, all funds)", ctx.store,
        result["allocations"] / seconds, "allocations/s", Target(5_000),
        detail=f"{result['allocations']:,} allocations of {result['funds']} funds in "
               f"{seconds:.1f} s (proposed in {result['proposed_seconds']:.1f} s, then "
               f"approved), {len(next_year)} funds of {FISCAL_YEAR + 1} receiving 结转, in a "
               f"process set up as a server's; before it, {kept:,} snapshots kept as the "
               f"views' runner keeps them, in {keeping:.1f} s"))


def in_process_writes(ctx: Context, ledger: FundLedger) -> None:
    for group_commit in (False, True):
        for threads in ctx.bounds.concurrency:
            run = threaded_writes(ledger, ctx.workload, threads=threads, group_commit=group_commit,
                                  count_max=ctx.bounds.write_count_max,
                                  seconds_max=ctx.bounds.write_seconds)
            name = f"{threads} threads, " + ("group commit" if group_commit else "one save each")
            base = ctx.key(WRITES, f"{threads} threads, one save each") if group_commit else ""
            ctx.report.add(Figure(
                WRITES, name, ctx.store, run.per_second, "expenditures/s", baseline=base,
                detail=f"p50 {run.p(0.5):.1f} ms, p99 {run.p(0.99):.1f} ms, {run.done:,} done"
                       + (f", {run.errors} refused {run.error_kinds}" if run.errors else "")))


def write_spec(ctx: Context) -> dict[str, Any]:
    """What the load client needs to write: the officer's token and the allocations."""
    return {"kind": "write", "token": ctx.workload.officer_token, "run_tag": ctx.workload.run_tag,
            "allocations": [str(a) for a in ctx.workload.allocations],
            "spent_on": SPENT_ON.isoformat()}


def http_writes(ctx: Context, *,
                batches: Callable[[Context, http_server.Server, dict[str, Any]], None]) -> None:
    spec = write_spec(ctx)
    for group_commit in (False, True):
        label = "group commit" if group_commit else "one save per request"
        with http_server.served(ctx.settings, group_commit=group_commit) as server:
            for clients in ctx.bounds.concurrency:
                spec["run_tag"] = f"{ctx.workload.run_tag}{'g' if group_commit else 's'}{clients}"
                profiler = _profile_server(ctx, server.pid, f"http-{label}-{clients}")
                result = http_server.load(server.port, clients, spec,
                                          requests_max=ctx.bounds.write_count_max,
                                          seconds_max=ctx.bounds.write_seconds,
                                          warmup_seconds=ctx.bounds.warmup_seconds)
                if profiler is not None:
                    profiler.wait()
                _http_figures(ctx, clients, label, result)
            if group_commit:
                batches(ctx, server, spec)
    if ctx.store == "postgres":
        _http_workers(ctx, spec)


def _http_workers(ctx: Context, spec: dict[str, Any]) -> None:
    """Several server processes, so that no one interpreter's lock serialises HTTP, commits and
    views: `fundledger serve --workers 2` (two uvicorn workers, one committer process deciding
    and saving for both, the views in a process of their own), and beside it the earlier way,
    a group commit in each worker. SQLite is left out: its writers share one file lock."""
    top = max(ctx.bounds.concurrency)
    workers = HTTP_WORKERS
    # Each process opens its whole pool at start: three pools of 20 beside the bench's own
    # exhausted PostgreSQL's 100 connections in the first full run (every answer 503).
    settings = ctx.settings.model_copy(update={"postgres_pool_size": HTTP_WORKER_POOL_SIZE})
    for committer in (False, True):
        way = (f"{workers} workers + committer + views process" if committer
               else f"group commit, {workers} workers + views process")
        with http_server.served(settings, group_commit=True, workers=workers,
                                committer=committer) as server:
            spec["run_tag"] = f"{ctx.workload.run_tag}w{workers}{'c' if committer else ''}"
            result = http_server.load(server.port, top, spec,
                                      requests_max=ctx.bounds.write_count_max,
                                      seconds_max=ctx.bounds.write_seconds,
                                      warmup_seconds=ctx.bounds.warmup_seconds)
        ctx.report.add(Figure(HTTP, f"{top} clients, {way}", ctx.store, result["per_second"],
                              "expenditures/s", Target(2000),
                              baseline=ctx.key(HTTP, f"{top} clients, group commit"),
                              detail=load_detail(result)))
        ctx.report.add(Figure(HTTP, f"{top} clients, {way}: p99 latency", ctx.store,
                              result["p99_ms"], "ms", Target(50, at_least=False),
                              baseline=ctx.key(HTTP, f"{top} clients, group commit: p99 latency")))


def _profile_server(ctx: Context, pid: int, name: str) -> subprocess.Popen[bytes] | None:
    if ctx.profile_dir is None:
        return None
    out = ctx.profile_dir / f"{ctx.store}-{name.replace(' ', '-')}.txt"
    return profiling.record(pid, out, ctx.bounds.warmup_seconds + ctx.bounds.write_seconds)


def load_detail(result: dict[str, Any]) -> str:
    """A load run's latencies and answers, and the first error if any."""
    errors = f", {result['errors']} errors ({result['first_error'][:80]})" if result["errors"] else ""
    return f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, {result['ok']:,} ok{errors}"


def _http_figures(ctx: Context, clients: int, label: str, result: dict[str, Any]) -> None:
    group_commit = label == "group commit"
    top = max(ctx.bounds.concurrency)  # the targets are for 64 clients
    baseline_name = f"{clients} clients, one save per request"
    target = Target(2000) if group_commit and clients == top else None
    detail = load_detail(result)
    ctx.report.add(Figure(HTTP, f"{clients} clients, {label}", ctx.store, result["per_second"],
                          "expenditures/s", target,
                          baseline=ctx.key(HTTP, baseline_name) if group_commit else "",
                          detail=detail))
    if group_commit and clients == top:
        ctx.report.add(Figure(HTTP, f"{top} clients, group commit: p99 latency", ctx.store,
                              result["p99_ms"], "ms", Target(50, at_least=False),
                              baseline=ctx.key(HTTP, f"{top} clients, one save per request: p99 latency")))
    if not group_commit and clients == top:
        ctx.report.add(Figure(HTTP, f"{top} clients, one save per request: p99 latency", ctx.store,
                              result["p99_ms"], "ms"))


def http_gain(ctx: Context) -> None:
    """The issue's "≥ 2× the one-save-per-request baseline", as a figure of its own."""
    top = max(ctx.bounds.concurrency)
    with_group = ctx.report.value_of(ctx.key(HTTP, f"{top} clients, group commit"))
    without = ctx.report.value_of(ctx.key(HTTP, f"{top} clients, one save per request"))
    if with_group and without:
        ctx.report.add(Figure(HTTP, f"{top} clients: group commit ÷ one save per request", ctx.store,
                              with_group / without, "×", Target(2)))


def raw_limits(ctx: Context, conninfo: str) -> None:
    single = raw_postgres.insert_commit_each(conninfo, ctx.bounds.raw_single_rows, ctx.bounds.raw_seconds)
    base = ctx.key(RAW, "one INSERT + commit per row")
    ctx.report.add(Figure(RAW, "one INSERT + commit per row", ctx.store, single.per_second, "rows/s",
                          detail=f"{single.rows:,} rows, TCP 127.0.0.1"))
    many = raw_postgres.executemany(conninfo, ctx.bounds.raw_many_rows, ctx.bounds.raw_seconds)
    ctx.report.add(Figure(RAW, "executemany, 1,000 rows per commit", ctx.store, many.per_second,
                          "rows/s", baseline=base, detail=f"{many.rows:,} rows"))
    copied = raw_postgres.copy(conninfo, ctx.bounds.raw_copy_rows)
    ctx.report.add(Figure(RAW, "COPY, one transaction", ctx.store, copied.per_second, "rows/s",
                          baseline=base, detail=f"{copied.rows:,} rows"))


def one_write_round_trips(ctx: Context) -> None:
    """What one `POST /v1/expenditures` waits for at the wire (scripts/bench/round_trips.py):
    counts, so the same on a busy machine as on a quiet one."""
    allocations = ctx.workload.allocations
    counts = round_trips.count_one_write(ctx.settings, [allocations[0], allocations[-1]],
                                         ctx.workload.officer_token)
    for name, count in counts.items():
        ctx.report.add(Figure(HTTP, f"one POST /v1/expenditures, {name}: round trips", ctx.store,
                              count.round_trips, "round trips",
                              detail=f"{count.statements} statements"))


def child(measure: str, target: str, profile: Path | None = None, *, extra: str | None = None
          ) -> dict[str, Any]:
    command = profiling.wrapped([sys.executable, "-m", "scripts.bench.child", measure, target,
                                 *([extra] if extra is not None else [])], profile)
    done = subprocess.run(command, capture_output=True, text=True, check=False,  # noqa: S603
                          timeout=CHILD_SECONDS_MAX)
    # The child's answer is its last JSON line: under --profile, py-spy prints after it.
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        msg = f"{measure} failed: {done.stderr.strip()[-300:]}"
        raise RuntimeError(msg)
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def rebuild(ctx: Context) -> None:
    profile = ctx.profile_dir / f"{ctx.store}-rebuild.txt" if ctx.profile_dir else None
    result = child("rebuild", ctx.settings.database_url, profile)
    rate = result["events"] / result["seconds"]
    growth = result["peak_rss_mb"] - result["rss_first_page_mb"]
    ctx.report.add(Figure(REBUILD, "all views from the whole log", ctx.store, rate, "events/s",
                          Target(100_000),
                          detail=f"{result['events']:,} events in {result['seconds']:.1f} s"))
    ctx.report.add(Figure(REBUILD, "peak memory (RSS)", ctx.store, result["peak_rss_mb"], "MB",
                          detail=f"grew {growth:.0f} MB after the first page"))
    ctx.report.add(Figure(REBUILD, "memory growth after the first page", ctx.store, growth, "MB",
                          Target(64, at_least=False, note="(flat in the event count)")))
    ctx.report.add(Figure(REBUILD, "whole log, seconds", ctx.store, result["seconds"], "s",
                          baseline=f"{PEER_STORE}:{PEER}:load + balances, seconds"))
    if ctx.wants_peer and importlib.util.find_spec("beancount") is not None:
        ctx.peer_ledger = Path(tempfile.mkdtemp(prefix="fundledger-bench-")) / "bureau.beancount"
        ctx.peer_transactions = _peer_file(ctx, ctx.peer_ledger)


def verify(ctx: Context) -> None:
    result = child("verify", ctx.settings.database_url)
    status = "" if result["ok"] else "chain does not verify"
    ctx.report.add(Figure(VERIFY, "hash chain, whole log", ctx.store,
                          result["events"] / result["seconds"], "events/s", Target(200_000),
                          baseline=ctx.key(REBUILD, "all views from the whole log"), status=status,
                          detail=f"{result['events']:,} events in {result['seconds']:.1f} s"))


def reads(ctx: Context) -> None:
    b = ctx.bounds
    codes = ctx.workload.school_codes
    for name, as_of, bound in (("balance", None, 5.0), ("as-of balance", AS_OF, 50.0)):
        p50, p99, count = balance_reads(ctx.settings, codes, FISCAL_YEAR, as_of=as_of,
                                        reads_max=b.reads_max, seconds_max=b.read_seconds)
        ctx.report.add(Figure(READS, f"{name}, in-process: p99", ctx.store, p99, "ms",
                              Target(bound, at_least=False),
                              baseline=ctx.key(READS, "balance, in-process: p99") if as_of else "",
                              detail=f"p50 {p50:.2f} ms, {count:,} reads"))
    spec: dict[str, Any] = {"kind": "read", "token": ctx.workload.officer_token, "schools": codes,
                            "fiscal_year": FISCAL_YEAR}
    with http_server.served(ctx.settings, group_commit=True) as server:
        for name, as_of, bound in (("balance", None, 5.0), ("as-of balance", AS_OF, 50.0)):
            spec["as_of"] = as_of.isoformat() if as_of else None
            result = http_server.load(server.port, 1, spec, requests_max=b.reads_max,
                                      seconds_max=b.read_seconds, warmup_seconds=b.warmup_seconds)
            ctx.report.add(Figure(
                READS, f"{name}, HTTP: p99", ctx.store, result["p99_ms"], "ms",
                Target(bound, at_least=False), baseline=ctx.key(READS, f"{name}, in-process: p99"),
                detail=f"p50 {result['p50_ms']:.2f} ms, {result['ok']:,} reads"
                       + (f", {result['errors']} errors ({result['first_error'][:80]})"
                          if result["errors"] else "")))


PEER_STORE = "any"


def _peer_file(ctx: Context, path: Path) -> int:
    """beancount's file of the balance movements the views now hold; its transactions."""
    from projections.database import ViewDatabase  # noqa: PLC0415

    db = ViewDatabase.open(ctx.settings)
    try:
        return write_ledger(db, path)
    finally:
        db.close()


def beancount_peer(ctx: Context) -> None:
    if importlib.util.find_spec("beancount") is None:
        ctx.report.missing(PEER, "load + balances", PEER_STORE, "transactions/s",
                           "not installed (pip install 'beancount>=3,<4')")
        return
    if ctx.peer_ledger is not None:  # the log the rebuild replayed
        path, transactions, source = ctx.peer_ledger, ctx.peer_transactions, "the rebuilt log"
        try:
            result = child("beancount", str(path))
        finally:
            shutil.rmtree(path.parent, ignore_errors=True)
            ctx.peer_ledger = None
    else:  # no rebuild in this run: the log as it is now
        with tempfile.TemporaryDirectory(prefix="fundledger-bench-") as directory:
            path = Path(directory) / "bureau.beancount"
            transactions, source = _peer_file(ctx, path), "the log at the end of the run"
            result = child("beancount", str(path))
    status = f"{result['errors']} errors: {result['first_error'][:80]}" if result["errors"] else ""
    ctx.report.add(Figure(PEER, "load + balances", PEER_STORE,
                          result["transactions"] / result["seconds"], "transactions/s",
                          status=status,
                          detail=f"{transactions:,} transactions ({source}) in "
                                 f"{result['seconds']:.1f} s (parse+book "
                                 f"{result['load_seconds']:.1f} s), peak RSS "
                                 f"{result['peak_rss_mb']:.0f} MB"))
    ctx.report.add(Figure(PEER, "load + balances, seconds", PEER_STORE, result["seconds"], "s"))
    rebuild_seconds = [f for f in ctx.report.figures if f.part == REBUILD and f.name == "whole log, seconds"]
    for figure in rebuild_seconds:
        figure.target = Target(result["seconds"], at_least=False, note="(beancount's)")
