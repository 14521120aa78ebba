"""The side-by-side benchmark of issue 6: `python -m scripts.bench [--quick]` or
`fundledger bench [--quick]`.

On a scratch PostgreSQL database (created and dropped by the run) and a scratch SQLite file,
it generates a Xuzhou fiscal year with the project's generator (the years before it too when more
events are asked than one year holds) and measures, in one run:
writes with and without group commit (in-process and over HTTP with a load client in its own
process), the physical limits of raw psycopg, bulk import, a full view rebuild and its memory,
balance reads now and as of a date, hash-chain verify, and beancount loading the same
transactions. It prints one table (value, target, ratio to its baseline) and writes it to
docs/benchmarks.md between markers, keeping the notes around it.
"""

from __future__ import annotations

from typing import Any

# Part names for --only (the smoke test runs a few).
PARTS = ("bulk", "rebuild", "writes", "http", "pgledger", "verify", "reads", "beancount", "raw",
         "roundtrips", "yearend")

_LAZY = {"BenchOptions", "run_bench", "QUICK_EVENTS", "FULL_EVENTS"}


def __getattr__(name: str) -> Any:
    """BenchOptions and run_bench load the app on first use, not on `import scripts.bench`:
    the load client and the child processes are modules of this package too, and must
    start in a fraction of a second."""
    if name in _LAZY:
        from scripts.bench import runner  # noqa: PLC0415

        return getattr(runner, name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
