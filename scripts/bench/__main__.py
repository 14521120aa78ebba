"""python -m scripts.bench [--quick] [--events N] [--database-url URL] [--no-sqlite] ..."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scripts.bench import PARTS, BenchOptions, run_bench
from scripts.bench.scratch import DEFAULT_POSTGRES_URL, ScratchRefused
from scripts.bench.workload import TooManyEvents


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The side-by-side benchmark of issue 6.")
    parser.add_argument("--quick", action="store_true", help="a few minutes, ~60,000 events")
    parser.add_argument("--events", type=int, default=None, help="events to generate (about)")
    parser.add_argument("--database-url", default=DEFAULT_POSTGRES_URL,
                        help="scratch PostgreSQL database, created and dropped (name must start "
                             "with fundledger_bench)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"),
                        help="Markdown file to write the table into ('-' for none)")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy raw profiles here")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma list of {', '.join(PARTS)}")
    args = parser.parse_args(argv)
    options = BenchOptions(
        quick=args.quick, events=args.events,
        postgres_url=None if args.no_postgres else args.database_url, sqlite=not args.no_sqlite,
        out=None if str(args.out) == "-" else args.out, profile_dir=args.profile,
        parts=frozenset(p.strip() for p in args.only.split(",") if p.strip()))
    try:
        run_bench(options)
    except (ScratchRefused, TooManyEvents) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
