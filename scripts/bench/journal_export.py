"""`python -m scripts.bench.journal_export --rows 100000`: the CPU a year's journal export
costs per row, CSV and XLSX, on a synthetic journal (issue 23's exports, without generating a
whole store).

The rows go straight into a scratch SQLite file's journal table (the layout
projections/journal.py keeps), shaped like a year's journal: mostly allocations and
expenditures in yuan, some resource units and unamounted events, Chinese reasons, and now and
then the text that makes exports awkward (quotes, commas, newlines, `<`, `&`, a leading `=`).
Each format is written once through `journal_export` to a file in the same scratch directory;
the figures are CPU seconds of this process (steadier than wall-clock on a shared machine), rows
per CPU second, wall seconds, the file's size, the peak resident memory after each, and the
load average, which any figure taken on a shared machine must be read beside.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from domain.terms import ENTITY_TYPES, EVENTS
from projections.database import SQLITE, ViewDatabase
from projections.exports import journal_export
from projections.journal import JOURNAL_TABLE, JournalView

YEAR = 2025
AWKWARD = ('引号"与,逗号', "换行\n第二行", "<b>&amp;</b>", "=HYPERLINK(\"x\")", "+86 电话",
           "-5 调减", "@SUM(A1)", "  两端空格  ")


def journal_rows(count: int, seed: int = 23) -> Iterator[tuple[Any, ...]]:
    """`count` journal rows of the year, in the journal table's column order."""
    rng = random.Random(seed)
    events = sorted(EVENTS)
    types = sorted(ENTITY_TYPES)
    roles = ("officer", "approver", "auditor", "admin", None)
    for position in range(1, count + 1):
        day = f"{YEAR}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        unit, amount = rng.choice((("CNY", rng.randint(1, 10**9)), ("CNY", -rng.randint(1, 10**7)),
                                   ("TEACHER_POST", rng.randint(1, 9)), (None, None)))
        reason = (rng.choice(AWKWARD) if rng.random() < 0.05
                  else rng.choice(("购置图书", "教师培训费", "校舍维修", None)))
        yield (position, f"{day}T08:{position % 60:02d}:00.000000+00:00", f"user{position % 40}",
               rng.choice(roles), rng.choice(types), f"XZ-{position % 2000:04d}-{position}",
               1, rng.choice(events), amount, unit, reason, day,
               f"key-{position}" if position % 3 else None, f"{position:064x}")


def build(path: Path, count: int) -> ViewDatabase:
    db = ViewDatabase(sqlite3.connect(path, isolation_level=None), SQLITE)
    JournalView().create_tables(db)
    with db.transaction():
        db.executemany(f"INSERT INTO {JOURNAL_TABLE} VALUES ({', '.join('?' * 14)})",  # noqa: S608
                       list(journal_rows(count)))
    return db


def measure(db: ViewDatabase, directory: Path, output_format: str, language: str) -> dict[str, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    built = journal_export(db, YEAR)
    out = directory / built.filename(output_format)
    with out.open("wb") as handle:
        built.write(output_format, handle, language=language)
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    rows = built.rows_expected or 0
    return {"format": output_format, "rows": rows, "cpu_s": round(cpu, 2),
            "rows_per_cpu_s": round(rows / cpu) if cpu else None, "wall_s": round(wall, 2),
            "bytes": out.stat().st_size,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "load": " ".join(f"{x:.2f}" for x in os.getloadavg())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--language", default="zh")
    parser.add_argument("--keep", type=Path, help="keep the files in this directory")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fundledger-journal-export-") as scratch:
        directory = options.keep or Path(scratch)
        db = build(Path(scratch) / "views.db", options.rows)
        try:
            for output_format in options.formats.split(","):
                print(measure(db, directory, output_format, options.language))
        finally:
            db.close()


if __name__ == "__main__":
    main()
