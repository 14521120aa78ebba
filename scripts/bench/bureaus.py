"""Many bureaus on one PostgreSQL (issue 15's bench rows): a simulated province of
`--bureaus` county-level bureaus under cities of ten, each with `--schools` schools and a
generated year written with the generator's batched import into a schema of its own, its
views built; then

- the consolidated report of one city (its ten bureaus) and of the province (all of them),
  as of a day, computed as the server does: each child's views read through a connection
  opened for the report (the cold path: no bureau's books open in the process);
- one bureau's balance read (p50/p99, in-process through the views' queries, as the `reads`
  part measures it) with every other bureau present.

    python -m scripts.bench.bureaus --store postgresql://postgres@127.0.0.1:5432/fundledger_bureaus \\
        --bureaus 100 --schools 200

Re-running on the same store reuses the bureaus already generated (each is skipped when its
log is not empty), so the measuring can be repeated without the setup.

`--generated N` generates only the first N bureaus and copies their schemas (tables, rows and
indexes, with SQL) into the others, round robin: on this shared 2-core machine a 200-school
year is ~30,000 events and ~2 minutes, so 100 generated bureaus would take hours. The reports
still read each bureau's own schema; only the figures repeat.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date
from pathlib import Path

import psycopg
from psycopg import sql

from api.consolidated import ChildReports, consolidate
from api.settings import Settings
from api.store import bureau_settings, open_bureau_ledger, open_registry, open_view_runner
from domain.bureau_registry import BureauDirectory
from projections.queries import BureauQueries
from scripts.bench.reads import balance_reads
from scripts.generator import generate
from scripts.generator.geography import preset_named

FISCAL_YEAR = 2025
AS_OF = date(FISCAL_YEAR, 9, 30)
BUREAUS_PER_CITY = 10
COUNTY_PRESET = "xuzhou:Tongshan"  # a mixed county: urban streets, towns and villages
REPORT_RUNS = 3


def province(settings: Settings, bureaus: int) -> BureauDirectory:
    """JS over cities C01…, each over ten county-level bureaus C01-K01…"""
    registry = open_registry(settings)
    try:
        registry.add("JS", "省教育厅", "province")
        for index in range(bureaus):
            city = f"C{index // BUREAUS_PER_CITY + 1:02d}"
            registry.add(city, f"{city}市教育局", "city", "JS")
            registry.add(f"{city}-K{index % BUREAUS_PER_CITY + 1:02d}", f"{city}县{index}教育局",
                         "county", city)
        return registry.directory()
    finally:
        registry.close()


def fill(settings: Settings, code: str, seed: int, schools: int, vouchers: float) -> int:
    """One bureau's generated year and its views; the events written (0 when it was there)."""
    ledger = open_bureau_ledger(settings, code, clock=lambda: date(FISCAL_YEAR, 12, 31))
    try:
        if ledger.last_position():
            return 0
        scale = schools / preset_named(COUNTY_PRESET).schools
        summary = generate(ledger, preset=COUNTY_PRESET, seed=seed, fiscal_year=FISCAL_YEAR,
                           scale=scale, expenditures_per_school_month=vouchers)
    finally:
        ledger.close()
    with open_view_runner(bureau_settings(settings, code)) as runner:
        runner.run_until_caught_up()
    return summary.events


def clone(settings: Settings, source: str, target: str) -> None:
    """Bureau `target`'s schema as a copy of `source`'s (every table, its rows and indexes)."""
    source_schema = bureau_settings(settings, source).postgres_schema
    target_schema = bureau_settings(settings, target).postgres_schema
    with psycopg.connect(settings.database_url, autocommit=True) as connection:
        tables = [t for (t,) in connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (source_schema,))]
        present = {t for (t,) in connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (target_schema,))}
        with connection.transaction():
            for table in tables:
                if table in present:
                    continue
                names = {"src": sql.Identifier(source_schema, table),
                         "dst": sql.Identifier(target_schema, table)}
                connection.execute(sql.SQL("CREATE TABLE {dst} (LIKE {src} INCLUDING ALL)").format(**names))
                connection.execute(sql.SQL("INSERT INTO {dst} SELECT * FROM {src}").format(**names))


def timed_reports(settings: Settings, directory: BureauDirectory, code: str, *,
                  evaluation: bool, kept: ChildReports | None = None) -> list[float]:
    """Seconds of each of REPORT_RUNS asks; with `kept` (the server's), after the first the
    children's views have not moved, so only their positions are read."""
    supervisor = directory.get(code)
    children = directory.book_keepers_under(code)
    seconds = []
    for _ in range(REPORT_RUNS):
        started = time.perf_counter()
        report = consolidate(settings, supervisor, children, FISCAL_YEAR, AS_OF,
                             evaluation=evaluation, kept=kept)
        seconds.append(time.perf_counter() - started)
        assert len(report.children) == len(children)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, help="postgresql://… (a database of its own)")
    parser.add_argument("--schema", default="bench_province")
    parser.add_argument("--bureaus", type=int, default=100)
    parser.add_argument("--schools", type=int, default=200)
    parser.add_argument("--vouchers", type=float, default=1.0,
                        help="expenditures per school and month (the generator's default is 6)")
    parser.add_argument("--generated", type=int, default=0,
                        help="generate only this many bureaus, copy them into the rest (0: all)")
    parser.add_argument("--keys", type=Path, default=Path("var/bench-bureaus"))
    options = parser.parse_args()
    settings = Settings(database_url=options.store, postgres_schema=options.schema, bureau="JS",
                        signing_key_path=options.keys / "signing-key.pem", postgres_pool_size=2)
    with psycopg.connect(options.store, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
            sql.Identifier(options.schema)))
    directory = province(settings, options.bureaus)
    counties = [b.code for b in directory.book_keepers_under("JS")]
    started, events = time.perf_counter(), 0
    generated = options.generated or len(counties)
    for seed, code in enumerate(counties):
        if seed >= generated:
            clone(settings, counties[seed % generated], code)
            continue
        made = fill(settings, code, seed, options.schools, options.vouchers)
        events += made
        if made:
            print(f"  {code}: {made:,} events ({time.perf_counter() - started:,.0f} s so far)",
                  flush=True)
    setup = time.perf_counter() - started
    print(f"setup: {len(counties)} bureaus ({generated} generated), {events:,} new events "
          f"generated in {setup:,.0f} s")
    reports = {(code, evaluation): timed_reports(settings, directory, code, evaluation=evaluation)
               for code in ("C01", "JS") for evaluation in (False, True)}
    kept = {code: timed_reports(settings, directory, code, evaluation=True, kept=ChildReports())
            for code in ("C01", "JS")}
    one = bureau_settings(settings, counties[len(counties) // 2])
    queries = BureauQueries(one)
    try:
        codes = [row.code for row in queries.list_schools(limit=1000)[0]]
    finally:
        queries.close()
    now = balance_reads(one, codes, FISCAL_YEAR, as_of=None, reads_max=2000, seconds_max=20)
    past = balance_reads(one, codes, FISCAL_YEAR, as_of=AS_OF, reads_max=2000, seconds_max=20)
    print("| measure | figure |\n|---|---|")
    for (code, evaluation), seconds in reports.items():
        what = (f"city report, {len(directory.book_keepers_under(code))} bureaus" if code != "JS"
                else f"province report, {len(counties)} bureaus")
        print(f"| {what}, as of {AS_OF}, {'with' if evaluation else 'without'} the evaluation "
              f"| first {seconds[0]:.2f} s, median {statistics.median(seconds):.2f} s |")
    for code, seconds in kept.items():
        print(f"| {code} report with the evaluation, asked again (children kept, positions "
              f"read) | first {seconds[0]:.2f} s, then median {statistics.median(seconds[1:]):.3f} s |")
    print(f"| balance read, one bureau of {len(counties)} | p50 {now[0]:.2f} ms, "
          f"p99 {now[1]:.2f} ms ({now[2]} reads) |")
    print(f"| balance as of {AS_OF}, one bureau of {len(counties)} | p50 {past[0]:.2f} ms, "
          f"p99 {past[1]:.2f} ms ({past[2]} reads) |")


if __name__ == "__main__":
    main()
