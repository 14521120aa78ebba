"""The benchmark's run: the stores, the parts in order, the table and docs/benchmarks.md.

Kept out of scripts/bench/__init__.py so that the helper processes the run starts
(`python -m scripts.bench.child`, `…load_client`) import only what they use.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from api.settings import Settings
from api.store import open_ledger, open_view_runner
from scripts.bench import PARTS, document, machine, parts, peer_parts, scratch
from scripts.bench.figures import Report, Target, guarded
from scripts.bench.following_views import views_following
from scripts.bench.workload import Workload, YearCap, fiscal_years, generate_years

QUICK_EVENTS = 60_000
FULL_EVENTS = 1_000_000

console = Console(stderr=True)
TABLE_WIDTH = 200  # the table is read in logs and CI output too, where no terminal says its width


@dataclass
class BenchOptions:
    quick: bool = False
    events: int | None = None  # default: QUICK_EVENTS or FULL_EVENTS
    postgres_url: str | None = scratch.DEFAULT_POSTGRES_URL  # None: PostgreSQL not measured
    sqlite: bool = True
    out: Path | None = Path("docs/benchmarks.md")
    profile_dir: Path | None = None
    parts: frozenset[str] = field(default_factory=lambda: frozenset(PARTS))
    toy: bool = False  # the CI smoke test's bounds (Bounds.toy): it runs, it measures nothing
    year_cap: YearCap = field(default_factory=YearCap)  # beyond one year at the cap: more years
    # The views kept by their own process while the log is generated (following_views.py).
    # None: when more than one fiscal year is generated on PostgreSQL, the 10M run's case.
    views_follow: bool | None = None

    @property
    def event_target(self) -> int:
        return self.events or (QUICK_EVENTS if self.quick else FULL_EVENTS)

    def follows_views(self, store: str, years: int) -> bool:
        """On SQLite the views share the store's one writer, so a second process would only
        queue behind the generator."""
        if store != "postgres" or not self.parts & {"reads", "http"}:
            return False
        return self.views_follow if self.views_follow is not None else years > 1

    @property
    def bounds(self) -> parts.Bounds:
        if self.toy:
            return parts.Bounds.toy()
        return parts.Bounds.quick() if self.quick else parts.Bounds.full()




def run_bench(options: BenchOptions) -> Report:
    report = Report()
    started = time.perf_counter()
    years = fiscal_years(options.event_target, options.year_cap)  # refuses before any store
    if len(years) > 1:
        console.print(f"{options.event_target:,} events asked: more than one fiscal year holds "
                      f"(about {options.year_cap.events:,}); generating {len(years)} years "
                      f"{years[0]}–{years[-1]}, each closed into the next")
    header = machine.describe(scratch.conninfo(options.postgres_url, "postgres")
                              if options.postgres_url else None)
    stores: list[tuple[str, Callable[[], AbstractContextManager[Settings]]]] = []
    if options.postgres_url:
        url = options.postgres_url
        scratch.scratch_database_name(url)  # refuse before anything is created
        # A toy run (the CI smoke test) keeps few connections: its processes each open a pool,
        # beside the rest of a suite running on every core (the server takes 100 in all).
        pool_size = 4 if options.toy else 20
        stores.append(("postgres", lambda: scratch.postgres_store(url, pool_size)))
    if options.sqlite:
        stores.append(("sqlite", scratch.sqlite_store))
    generated: dict[str, Workload] = {}
    for index, (store, opener) in enumerate(stores):
        with opener() as settings:
            generated[store] = _measure_store(report, options, store, settings, first=index == 0)
    seconds = time.perf_counter() - started
    mode = "toy" if options.toy else "quick" if options.quick else "full"
    title = (f"fundledger benchmark ({mode}, {options.event_target:,} events asked, "
             f"{_generated(generated)}, {seconds / 60:.1f} min)")
    Console(width=TABLE_WIDTH).print(report.table(title))
    if options.out is not None:
        document.write(options.out, report, header, title)
        console.print(f"written to {options.out}")
    return report


def _generated(generated: dict[str, Workload]) -> str:
    """`3,062,116 generated in fiscal year 2025`, per store when the stores' counts differ."""
    counts = {f"{w.events:,} generated in {w.span()}" for w in generated.values()}
    if len(counts) == 1:
        return counts.pop()
    return "; ".join(f"{store} {w.events:,} generated in {w.span()}" for store, w in generated.items())


def _measure_store(report: Report, options: BenchOptions, store: str, settings: Settings, *,
                   first: bool) -> Workload:
    console.rule(f"[bold]{store}")
    started = time.perf_counter()
    chosen = options.parts
    ledger = open_ledger(settings)
    with ExitStack() as stack:
        stack.callback(ledger.close)
        console.print(f"generating about {options.event_target:,} events …")
        follow = options.follows_views(store, len(fiscal_years(options.event_target,
                                                               options.year_cap)))
        with views_following(settings) if follow else nullcontext(None) as followed:
            workload = generate_years(ledger, options.event_target, options.year_cap,
                                      say=lambda line: console.print(f"[{store}] {line}"))
        console.print(f"[{store}] generated {workload.events:,} events in {workload.span()} "
                      f"({workload.seconds:.1f} s)")
        if followed is not None:
            console.print(f"[{store}] the views' own process followed to position "
                          f"{followed.position:,} of {ledger.last_position():,}; the rest is "
                          "caught up before the reads")
        ctx = parts.Context(report, settings, store, options.bounds, workload, options.profile_dir,
                            views_followed=None if followed is None else followed.position,
                            wants_peer=first and "beancount" in chosen)
        steps: list[tuple[str, str, str, str, Callable[[], None], Target | None]] = [
            ("bulk", parts.BULK, "bulk import", "events/s", lambda: parts.bulk_import(ctx, ledger), None),
            ("rebuild", parts.REBUILD, "all views from the whole log", "events/s",
             lambda: parts.rebuild(ctx), Target(100_000)),
            ("writes", parts.WRITES, "in-process writes", "expenditures/s",
             lambda: parts.in_process_writes(ctx, ledger), None),
            ("http", parts.HTTP, "HTTP writes", "expenditures/s", lambda: _http(ctx), Target(2000)),
            ("verify", parts.VERIFY, "hash chain, whole log", "events/s",
             lambda: parts.verify(ctx), Target(200_000)),
            ("reads", parts.READS, "balance reads", "ms", lambda: _reads(ctx), None),
            ("beancount", parts.PEER, "load + balances", "transactions/s",
             lambda: parts.beancount_peer(ctx), None),
        ]
        if store == "postgres" and options.postgres_url:
            url = options.postgres_url
            conninfo = scratch.conninfo(url)
            # Right after our writes: the peer in the same run, on the same server.
            steps.insert(4, ("pgledger", peer_parts.PGLEDGER, "transfers, one per call", "transfers/s",
                             lambda: peer_parts.pgledger(ctx, url), None))
            steps.append(("raw", parts.RAW, "physical limits", "rows/s",
                          lambda: parts.raw_limits(ctx, conninfo), None))
            steps.append(("roundtrips", parts.HTTP, "one write's round trips", "round trips",
                          lambda: parts.one_write_round_trips(ctx), None))
        # Last: it closes FISCAL_YEAR, the last generated year, which the other parts write to
        # (the years before it were closed as they were generated).
        steps.append(("yearend", parts.YEAR_END, "close the generated year", "allocations/s",
                      lambda: parts.year_end(ctx, ledger), Target(5_000)))
        for name, part, label, unit, measure, target in steps:
            if name not in chosen or (name == "beancount" and not first):
                continue
            console.print(f"[{store}] {part} … ({(time.perf_counter() - started) / 60:.1f} min)")
            guarded(report, part, label, store, unit, measure, target)
        guarded(report, peer_parts.RATIOS, "ratios", store, "×", lambda: peer_parts.ratios(ctx))
    return workload


def _http(ctx: parts.Context) -> None:
    _catch_up_views(ctx.settings)  # the server's runner then follows only the new writes
    parts.http_writes(ctx, batches=peer_parts.http_batches)
    parts.http_gain(ctx)
    guarded(ctx.report, parts.HTTP, "batches, the views kept the other way", ctx.store,
            "expenditures/s", lambda: peer_parts.http_batches_other_layout(ctx, parts.write_spec(ctx)))


def _reads(ctx: parts.Context) -> None:
    _catch_up_views(ctx.settings)  # reads at the full event count
    parts.reads(ctx)


def _catch_up_views(settings: Settings) -> None:

    with open_view_runner(settings) as runner:
        runner.run_until_caught_up()
