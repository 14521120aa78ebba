"""`python -m scripts.bench.following_year --database-url URL --scale 0.2`: the year after the
one a store holds (as `scripts.bench.full_store` fills it: 2025 generated, its anomalies
injected, closed into 2026), generated onto the same store with the same preset, seed and
scale, then the views caught up: the store a year's findings are measured in with a second
year present (docs/benchmarks.md, issue 23). Each phase's wall and CPU seconds are printed.

Like full_store it writes to a store that stays. The generator refuses a store without the
previous year, or another seed or scale, before writing anything.
"""

from __future__ import annotations

import argparse
import os
import sys

from api.settings import Settings
from api.store import open_ledger, open_view_runner
from domain.clock import bureau_today
from scripts.bench.demo_phases import phase, print_phases
from scripts.generator import GenerationRefused, generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--scale", type=float, required=True, help="the first year's scale")
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--preset", default="xuzhou")
    args = parser.parse_args()
    settings = Settings(database_url=args.database_url, postgres_pool_size=4)
    year = bureau_today().year  # full_store generated the year before and closed it into this
    rows: list[tuple[str, float, float, int]] = []
    ledger = open_ledger(settings)
    try:
        with phase(rows, f"generate {year} (following)", ledger.last_position):
            summary = generate(ledger, preset=args.preset, seed=args.seed, fiscal_year=year,
                               scale=args.scale, following=True)
        with open_view_runner(settings) as runner, phase(rows, "build the views", runner.position):
            runner.run_until_caught_up()
    except GenerationRefused as error:
        sys.exit(f"error: {error}")
    finally:
        ledger.close()
    print("\n".join(summary.lines()))
    print(f"{args.database_url}: load {os.getloadavg()[0]:.1f} at the end")
    print_phases(rows)


if __name__ == "__main__":
    main()
