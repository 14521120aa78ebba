"""Balance reads in-process, through the views' queries (projections/queries.py): one school's
balances now, and as of a business date (an indexed sum over the ledger entries)."""

from __future__ import annotations

import random
import time
from datetime import date

from api.settings import Settings
from scripts.bench.figures import percentile

AS_OF = date(2025, 6, 30)


def balance_reads(settings: Settings, school_codes: list[str], fiscal_year: int, *,
                  as_of: date | None, reads_max: int, seconds_max: float) -> tuple[float, float, int]:
    """(p50 ms, p99 ms, reads) of `school_balances` for random schools, one caller."""
    from api.store import open_views_reader  # noqa: PLC0415  (the views' module may be missing)

    queries = open_views_reader(settings)  # on the replica when `settings` name one
    rng = random.Random(11)
    latencies: list[float] = []
    deadline = time.monotonic() + seconds_max
    try:
        queries.school_balances(school_codes[0], fiscal_year, as_of=as_of)  # connect, warm up
        while len(latencies) < reads_max and time.monotonic() < deadline:
            code = rng.choice(school_codes)
            started = time.perf_counter()
            queries.school_balances(code, fiscal_year, as_of=as_of)
            latencies.append(time.perf_counter() - started)
    finally:
        queries.close()
    return percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000, len(latencies)
