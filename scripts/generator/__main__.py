"""python -m scripts.generator --preset xuzhou --seed 20250101 --scale 1.0 [--year 2025]

Writes a generated fiscal year into the configured store (FUNDLEDGER_DATABASE_URL, or
--database-url; `memory` for a throwaway in-memory run) with a progress bar, and prints a
summary. The store should be empty: school and fund codes are fixed by the preset and year.
With --following-year the store holds the previous year of the same preset, seed and scale
(its schools are reused, the funds its year-end close opened in advance are this year's).
"""

from __future__ import annotations

import argparse
import sys

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.settings import Settings
from domain.ledger import FundLedger
from scripts.generator import EXPENDITURES_PER_SCHOOL_MONTH, PRESETS, GenerationRefused, generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate a realistic fiscal year of a bureau's funds.")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="xuzhou")
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--year", type=int, default=2025, help="fiscal year (calendar year)")
    parser.add_argument("--per-school-month", type=float, default=EXPENDITURES_PER_SCHOOL_MONTH,
                        help="average expenditure vouchers per school and month")
    parser.add_argument("--following-year", action="store_true",
                        help="the store holds the previous year of the same preset, seed and scale")
    parser.add_argument("--database-url", default=None,
                        help="sqlite:///PATH, postgresql://…, or 'memory' (default: the settings)")
    args = parser.parse_args(argv)
    if args.database_url == "memory":
        env = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    else:
        settings = Settings(database_url=args.database_url) if args.database_url else Settings()
        env = settings.eventsourcing_env()
    ledger = FundLedger(env=env)
    try:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[day]}"), TimeElapsedColumn()) as bar:
            task = bar.add_task(f"{args.preset} {args.year}", total=None, day="")

            def progress(done: int, total: int, label: str) -> None:
                bar.update(task, completed=done, total=total, day=label)

            summary = generate(ledger, preset=args.preset, seed=args.seed, fiscal_year=args.year,
                               scale=args.scale, expenditures_per_school_month=args.per_school_month,
                               progress=progress, following=args.following_year)
    except (GenerationRefused, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        ledger.close()
    print("\n".join(summary.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
