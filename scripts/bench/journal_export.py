"""`python -m scripts.bench.journal_export --rows 100000`: the CPU a year's journal export
costs per row, CSV and XLSX, on a synthetic journal (issue 23's exports, without generating a
whole store).

The rows go straight into the journal table (projections/journal.py's layout) of a scratch
store — a SQLite file, or with `--postgres` a PostgreSQL database of its own, dropped
afterwards — shaped like a year's journal: mostly allocations and
expenditures in yuan, some resource units and unamounted events, Chinese reasons, and now and
then the text that makes exports awkward (quotes, commas, newlines, `<`, `&`, a leading `=`).
Each format is written once through `journal_export` to a file in a scratch directory. The
figures are CPU seconds of this process (steadier than wall-clock on a shared machine; on
PostgreSQL the server's share is not in them), rows per CPU second, wall seconds, the file's
size, the process's resident memory before each and its peak while writing (flat: the same
whatever the rows), and the load average, which any figure taken on a shared machine must be read beside.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from domain.terms import ENTITY_TYPES, EVENTS
from projections.database import ViewDatabase
from projections.exports import journal_export
from projections.journal import JOURNAL_TABLE, JournalView
from scripts.bench import scratch

YEAR = 2025
INSERT_ROWS = 20_000
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/fundledger_bench_journal_export"
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
                  else rng.choice(("购置图书", "教师培训费", "校舍维修", "", "", None)))
        yield (position, f"{day}T08:{position % 60:02d}:{position % 59:02d}.{position % 999_983:06d}+00:00",
               f"user{position % 40}.officer", rng.choice(roles), rng.choice(types),
               str(uuid.UUID(int=rng.getrandbits(128))), 1, rng.choice(events), amount, unit, reason,
               day, str(uuid.UUID(int=rng.getrandbits(128))) if position % 3 == 0 else None,
               hashlib.sha256(str(position).encode()).hexdigest())


def build(db: ViewDatabase, count: int) -> None:
    JournalView().create_tables(db)
    rows = journal_rows(count)
    with db.transaction():
        while batch := list(islice(rows, INSERT_ROWS)):
            db.executemany(f"INSERT INTO {JOURNAL_TABLE} VALUES ({', '.join('?' * 14)})", batch)  # noqa: S608
    if db.is_postgres:
        db.execute(f"ANALYZE {JOURNAL_TABLE}")


def _memory_mb(field: str) -> int | None:
    """This process's resident memory (VmRSS) or its peak (VmHWM), from Linux's /proc."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return None


def _reset_peak_memory() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # Linux: the peak starts again from now


def measure(db: ViewDatabase, directory: Path, output_format: str, language: str) -> dict[str, Any]:
    _reset_peak_memory()
    rss_before = _memory_mb("VmRSS")
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
            "rss_mb_before": rss_before, "peak_rss_mb_while_writing": _memory_mb("VmHWM"),
            "load": " ".join(f"{x:.2f}" for x in os.getloadavg())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--language", default="zh")
    parser.add_argument("--postgres", nargs="?", const=POSTGRES_URL,
                        help=f"measure on a scratch PostgreSQL database (default {POSTGRES_URL})")
    options = parser.parse_args()
    store = scratch.postgres_store(options.postgres) if options.postgres else scratch.sqlite_store()
    with store as settings, tempfile.TemporaryDirectory(prefix="fundledger-journal-export-") as scratch_dir:
        db = ViewDatabase.open(settings)
        try:
            build(db, options.rows)
            for output_format in options.formats.split(","):
                print(measure(db, Path(scratch_dir), output_format, options.language))
        finally:
            db.close()


if __name__ == "__main__":
    main()
