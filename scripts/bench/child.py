"""Measurements that run in a fresh process so that their peak memory is their own:
`python -m scripts.bench.child rebuild|verify|beancount|close ...` prints one JSON line.

Peak memory is the process's high-water mark (getrusage ru_maxrss); `rss_first_page_mb` is the
resident size once the first page is done, so `peak − first page` is what grew with the log.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any


def _status_mb(field: str) -> float:
    """A size from /proc/self/status (Linux), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def rss_mb() -> float:
    """The current resident set size."""
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """The high-water mark of this process (VmHWM) or of the largest of its ended children (a
    rebuild in parts builds the views in worker processes).

    Not this process's `getrusage` maxrss: Linux carries a process's maxrss across exec, so a
    child started by the bench, which holds the generated store's working set, reported the
    bench's ~500 MB as its own (the "rebuild memory grows by ~490 MB" of earlier runs). VmHWM
    belongs to the memory map, which exec replaces. The workers' maxrss may still include this
    process's size when it started them (~60 MB), never the bench's."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kB on Linux
    return max(_status_mb("VmHWM"), children)


def rebuild(database_url: str) -> dict[str, Any]:
    from api.settings import Settings  # noqa: PLC0415  (imports count towards the baseline)
    from api.store import open_view_runner  # noqa: PLC0415

    first_page: list[float] = []

    def progress(done: int, end: int) -> None:
        if not first_page:
            first_page.append(rss_mb())

    from projections.garbage_collection import fewer_collections  # noqa: PLC0415

    with open_view_runner(Settings(database_url=database_url)) as runner:
        started_rss = rss_mb()
        started = time.perf_counter()
        with fewer_collections():  # as `fundledger rebuild` does
            events = runner.rebuild(progress)
        seconds = time.perf_counter() - started
    return {"events": events, "seconds": seconds, "rss_start_mb": started_rss,
            "rss_first_page_mb": first_page[0] if first_page else started_rss,
            "peak_rss_mb": peak_rss_mb()}


def verify(database_url: str) -> dict[str, Any]:
    from api.settings import Settings  # noqa: PLC0415
    from api.store import open_view_runner  # noqa: PLC0415
    from projections.journal import verify_journal  # noqa: PLC0415

    with open_view_runner(Settings(database_url=database_url)) as runner:
        runner.run_until_caught_up()
        started = time.perf_counter()
        result = verify_journal(runner.db)
        seconds = time.perf_counter() - started
    return {"events": result.checked, "ok": result.ok, "seconds": seconds,
            "peak_rss_mb": peak_rss_mb()}


def beancount(path: str) -> dict[str, Any]:
    from beancount import loader  # noqa: PLC0415
    from beancount.core import data, realization  # noqa: PLC0415

    started = time.perf_counter()
    entries, errors, _ = loader.load_file(path)
    loaded = time.perf_counter() - started
    root = realization.realize(entries)
    accounts = sum(1 for _ in realization.iter_children(root))
    seconds = time.perf_counter() - started
    transactions = sum(1 for e in entries if isinstance(e, data.Transaction))
    return {"transactions": transactions, "errors": len(errors),
            "first_error": str(errors[0].message) if errors else "", "load_seconds": loaded,
            "seconds": seconds, "accounts": accounts, "peak_rss_mb": peak_rss_mb()}


def close(database_url: str, asked: str) -> dict[str, Any]:
    """The year-end close of `asked` (JSON: fiscal_year, funds, next_year_funds), proposed and
    approved as two people, in a process set up as a `fundledger serve` worker is (its
    collector tuned once the app is made, api/cli/server.py) with nothing of the store in its
    memory yet: a served store closes its year so. Run in the bench's own process, the close
    met that process's heap and garbage (the generated workload, the snapshots just kept) at
    every collection, and took 1.1-1.5x as long, varying with what the parts before it left."""
    from api.settings import Settings  # noqa: PLC0415
    from api.store import open_ledger  # noqa: PLC0415
    from projections.garbage_collection import tune_collector  # noqa: PLC0415
    from scripts.generator.office import APPROVER as CHIEF  # noqa: PLC0415
    from scripts.generator.office import CHECKER as SECOND_CHIEF  # noqa: PLC0415

    close_of = json.loads(asked)
    ledger = open_ledger(Settings(database_url=database_url))
    try:
        tune_collector()
        started = time.perf_counter()
        made = ledger.close_year(CHIEF, close_of["fiscal_year"], funds=close_of["funds"],
                                 next_year_funds=close_of["next_year_funds"],
                                 reason="bench: year-end close")
        proposed = time.perf_counter() - started
        outcome = ledger.approve_change(SECOND_CHIEF, made.subject.id)  # a two-person change
        seconds = time.perf_counter() - started
    finally:
        ledger.close()
    funds_closed = outcome.subjects[1:]  # the change first, then the funds it closed
    return {"allocations": sum(len(fund.allocation_ids) for fund in funds_closed),
            "funds": len(funds_closed), "seconds": seconds, "proposed_seconds": proposed,
            "peak_rss_mb": peak_rss_mb()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("measure", choices=("rebuild", "verify", "beancount", "close"))
    parser.add_argument("target", help="database URL, or the beancount file")
    parser.add_argument("asked", nargs="?", default="{}",
                        help="close: the fiscal year and funds, as JSON")
    args = parser.parse_args(argv)
    if args.measure == "close":
        print(json.dumps(close(args.target, args.asked)))
        return 0
    measure = {"rebuild": rebuild, "verify": verify, "beancount": beancount}[args.measure]
    print(json.dumps(measure(args.target)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
