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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--preset", default="xuzhou",
                        help="the whole city (as the earlier table), or one county's: xuzhou:Gulou")
    parser.add_argument("--private-facts", action="store_true")
    args = parser.parse_args()
    from scripts.anomalies import DEFAULT_RATES, inject  # noqa: PLC0415

    year = bureau_today().year - 1
    rates = {kind: rate * DEMO_ANOMALY_RATE_SHARE for kind, rate in DEFAULT_RATES.items()}
    rows: list[tuple[str, float, float, int]] = []
    with sqlite_store() as settings:
        ledger = open_ledger(settings)
        try:
            events = ledger.last_position
            with phase(rows, "generate the year", events):
                summary = generate(ledger, preset=args.preset, seed=args.seed, fiscal_year=year,
                                   scale=args.scale)
            with open_view_runner(settings) as runner:
                if args.private_facts:
                    with phase(rows, "inject audit anomalies (private facts)", events):
                        truth = inject(ledger, year, args.seed, rates)
                else:
                    with phase(rows, "build the views (before injecting)", runner.position):
                        runner.run_until_caught_up()
                    with phase(rows, "inject audit anomalies (the views')", events):
                        truth = inject(ledger, year, args.seed, rates, views=runner)
            with phase(rows, "year-end close", events):
                close_generated_year(ledger, year, summary.fund_codes, seed=args.seed)
            with open_view_runner(settings) as runner, phase(rows, "build the views", runner.position):
                runner.run_until_caught_up()
        finally:
            ledger.close()
    masked = UUID_TEXT.sub("…", json.dumps(truth, ensure_ascii=False, sort_keys=True))
    print(f"scale {args.scale}, load {os.getloadavg()[0]:.1f}; truth {len(truth)} lines, "
          f"digest {hashlib.sha256(masked.encode()).hexdigest()[:12]}")
    print("| phase | wall s | CPU s | events |")
    for name, wall, cpu, count in rows:
        print(f"| {name} | {wall:.1f} | {cpu:.1f} | {count:,} |")
    print(f"| total | {sum(r[1] for r in rows):.1f} | {sum(r[2] for r in rows):.1f} | |")


if __name__ == "__main__":
    main()
