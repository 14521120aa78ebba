"""`python -m scripts.bench.demo_phases --scale 0.05 [--private-facts]`: the demo's phases
for one store's books (by default the whole city's schools in one store), timed one by one
(wall and CPU seconds) on a scratch SQLite store, as `fundledger demo` runs them without
serving (docs/benchmarks.md, "The demo: where its time goes").

`--private-facts` runs the injector as it ran before the demo handed it its view runner: on
audit facts of its own, built from the whole log. The printed digest of the ground truth (with
the injector's random ids masked) must be the same either way.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from api.settings import Settings
from api.store import open_ledger, open_view_runner
from domain.clock import bureau_today
from scripts.bench.scratch import sqlite_store
from scripts.demo import DEMO_ANOMALY_RATE_SHARE
from scripts.generator import generate
from scripts.generator.year_end import close_generated_year

UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@contextmanager
def phase(rows: list[tuple[str, float, float, int]], name: str, events: Callable[[], int]) -> Iterator[None]:
    start_wall, start_cpu, start_events = time.monotonic(), time.process_time(), events()
    yield
    rows.append((name, time.monotonic() - start_wall, time.process_time() - start_cpu,
                 events() - start_events))


def run_phases(settings: Settings, *, preset: str, seed: int, scale: float,
               private_facts: bool = False,
               progress: Callable[[int, int, str], None] | None = None,
               ) -> tuple[list[tuple[str, float, float, int]], list[dict[str, Any]]]:
    """The demo's phases on the (empty) store `settings` names: the year generated, the views
    built, the anomalies injected, the year closed, the views caught up. Returns each phase's
    (name, wall s, CPU s, events) and the injected anomalies' ground truth."""
    from scripts.anomalies import DEFAULT_RATES, inject  # noqa: PLC0415

    year = bureau_today().year - 1
    rates = {kind: rate * DEMO_ANOMALY_RATE_SHARE for kind, rate in DEFAULT_RATES.items()}
    rows: list[tuple[str, float, float, int]] = []
    ledger = open_ledger(settings)
    try:
        events = ledger.last_position
        with phase(rows, "generate the year", events):
            summary = generate(ledger, preset=preset, seed=seed, fiscal_year=year, scale=scale,
                               progress=progress)
        with open_view_runner(settings) as runner:
            if private_facts:
                with phase(rows, "inject audit anomalies (private facts)", events):
                    truth = inject(ledger, year, seed, rates)
            else:
                with phase(rows, "build the views (before injecting)", runner.position):
                    runner.run_until_caught_up(_views_progress(progress))
                with phase(rows, "inject audit anomalies (the views')", events):
                    truth = inject(ledger, year, seed, rates, views=runner)
        with phase(rows, "year-end close", events):
            close_generated_year(ledger, year, summary.fund_codes, seed=seed)
        with open_view_runner(settings) as runner, phase(rows, "build the views", runner.position):
            runner.run_until_caught_up(_views_progress(progress))
    finally:
        ledger.close()
    return rows, truth


def _views_progress(progress: Callable[[int, int, str], None] | None,
                    ) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(done, total, "views")


def print_phases(rows: list[tuple[str, float, float, int]]) -> None:
    print("| phase | wall s | CPU s | events |")
    for name, wall, cpu, count in rows:
        print(f"| {name} | {wall:.1f} | {cpu:.1f} | {count:,} |")
    print(f"| total | {sum(r[1] for r in rows):.1f} | {sum(r[2] for r in rows):.1f} | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--preset", default="xuzhou",
                        help="the whole city (as the earlier table), or one county's: xuzhou:Gulou")
    parser.add_argument("--private-facts", action="store_true")
    args = parser.parse_args()
    with sqlite_store() as settings:
        rows, truth = run_phases(settings, preset=args.preset, seed=args.seed, scale=args.scale,
                                 private_facts=args.private_facts)
    masked = UUID_TEXT.sub("…", json.dumps(truth, ensure_ascii=False, sort_keys=True))
    print(f"scale {args.scale}, load {os.getloadavg()[0]:.1f}; truth {len(truth)} lines, "
          f"digest {hashlib.sha256(masked.encode()).hexdigest()[:12]}")
    print_phases(rows)

if __name__ == "__main__":
    main()
