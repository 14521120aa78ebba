"""A supervisor's consolidated report (issue 15, contract): its county-level bureaus' books
read side by side as of a day, each from its own views, nothing copied.

Each child is read in one consistent snapshot of its views and the report states the position
it read (and how far the child's log had gone), so the same question asked again of the
same positions gives the same answer. Totals are sums of the children's integers; per-pupil
figures and the rural/urban ratio are computed from those sums, never averaged.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any

from api.settings import Settings
from api.store import bureau_settings, open_views_reader
from domain.bureau_registry import BureauInfo
from projections.consolidation import CategorySourceTotal, category_source_totals
from projections.database import ViewDatabase, postgres_connection
from projections.queries import APPLICATION_NAME, BureauQueries
from projections.rural_support import RuralSupportReport, per_student, rural_to_urban_ratio
from projections.tracking import TRACKING_TABLE, ViewTrackingRecorder

MONEY_UNIT = "CNY"
# Children read at once: their reads are mostly the database's (each on a connection of its
# own), so a few overlap well; more only queue on this machine's two cores.
FAN_OUT_THREADS_MAX = 4
# Children's reads a server keeps (ChildReports): a province's hundred bureaus, for a few
# years and days each.
CHILD_READS_KEPT = 2048


@dataclass
class ChildFigures:
    bureau: str
    name: str
    position: int
    allocated: int = 0  # CNY, fen
    spent: int = 0
    students: int = 0
    per_student_allocated: int | None = None
    rural_to_urban_per_student_ratio: float | None = None
    read_seconds: float = 0.0


@dataclass
class Consolidated:
    bureau: str
    name: str
    level: str
    fiscal_year: int
    as_of: date | None
    children: list[ChildFigures] = field(default_factory=list)
    by_locale: list[dict[str, Any]] = field(default_factory=list)
    by_category_source: list[dict[str, Any]] = field(default_factory=list)
    counties: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChildRead:
    child: BureauInfo
    rural: RuralSupportReport
    totals: list[CategorySourceTotal]
    seconds: float


ChildKey = tuple[str, int, date | None, bool]  # bureau, fiscal year, as-of day, evaluation


class ChildReports:
    """Each child's read as a consolidated report made it, kept with the position it was read
    at: while the child's views stand at that position the same question has the same answer
    (the figures are the views' at that position, as of that day), so it is not read again."""

    def __init__(self, kept_max: int = CHILD_READS_KEPT) -> None:
        self.kept_max = kept_max
        self._kept: OrderedDict[ChildKey, ChildRead] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: ChildKey, position: int | None) -> ChildRead | None:
        """The kept read of `key` if it was made at `position` (the child's views' now)."""
        with self._lock:
            found = self._kept.get(key)
            if found is None or position is None or found.rural.position != position:
                return None
            self._kept.move_to_end(key)
        return replace(found, seconds=0.0)  # nothing read this time

    def keep(self, key: ChildKey, read: ChildRead) -> None:
        with self._lock:
            self._kept[key] = read
            self._kept.move_to_end(key)
            while len(self._kept) > self.kept_max:
                self._kept.popitem(last=False)


def child_positions(settings: Settings, codes: list[str]) -> dict[str, int]:
    """Where each child's views stand, reading nothing else: on PostgreSQL one statement per
    server (each child's tracking row, from its schema), on SQLite each file's tracking row. A
    child missing here (its views never made, its server not answering) is read in full."""
    found: dict[str, int] = {}
    servers: dict[str, list[Settings]] = defaultdict(list)
    for code in codes:
        books = settings.for_bureau(code).views_reading()
        if books.is_postgres:
            servers[books.database_url].append(books)
            continue
        db = ViewDatabase.open(books)
        try:
            position = ViewTrackingRecorder(db).max_tracking_id(APPLICATION_NAME)
        except sqlite3.Error:
            position = None
        finally:
            db.close()
        if position is not None:
            found[code] = position
    for on_server in servers.values():
        found |= _postgres_positions(on_server)
    return found


def _postgres_positions(children: list[Settings]) -> dict[str, int]:
    import psycopg  # noqa: PLC0415  (only PostgreSQL deployments load the driver)
    from psycopg import sql  # noqa: PLC0415

    statement = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {}, (SELECT notification_id FROM {} WHERE application_name = {})").format(
            sql.Literal(books.bureau),
            sql.Identifier(*filter(None, (books.postgres_schema, TRACKING_TABLE))),
            sql.Literal(APPLICATION_NAME))
        for books in children)
    try:
        with postgres_connection(children[0].model_copy(update={"postgres_schema": ""}),
                                 "fundledger-consolidated") as connection:
            rows = connection.execute(statement).fetchall()
    except psycopg.Error:  # a child whose views were never made: every one is read in full
        return {}
    return {code: int(position) for code, position in rows if position is not None}


@contextmanager
def child_views(settings: Settings, child: str) -> Iterator[BureauQueries]:
    """The child's views, on a connection opened for this read (in the fan-out's thread) and
    closed after it: a server's own reader of the bureau keeps a connection per thread."""
    queries = open_views_reader(bureau_settings(settings, child))
    try:
        yield queries
    finally:
        queries.close()


def consolidate(settings: Settings, supervisor: BureauInfo, children: list[BureauInfo],
                fiscal_year: int, as_of: date | None, *, evaluation: bool = True,
                kept: ChildReports | None = None) -> Consolidated:
    """Reads each child's views (see the module's docstring) and puts them side by side. The
    children are read concurrently, a few at a time: most of a read is the database's. With
    `kept`, a child whose views stand where its kept read was made is not read again."""
    report = Consolidated(supervisor.code, supervisor.name, supervisor.level.value,
                          fiscal_year, as_of)
    positions = child_positions(settings, [c.code for c in children]) if kept is not None else {}

    def read(child: BureauInfo) -> ChildRead:
        key = (child.code, fiscal_year, as_of, evaluation)
        found = kept.get(key, positions.get(child.code)) if kept is not None else None
        if found is not None:
            return replace(found, child=child)
        started = time.monotonic()
        with child_views(settings, child.code) as views:
            rural = views.rural_support(fiscal_year, as_of, evaluation=evaluation)
            db = views.stocks_db()
            with db.snapshot():
                totals = category_source_totals(db, fiscal_year, as_of, rural.position)
        done = ChildRead(child, rural, totals, time.monotonic() - started)
        if kept is not None:
            kept.keep(key, done)
        return done

    with ThreadPoolExecutor(max_workers=FAN_OUT_THREADS_MAX) as pool:
        reads = list(pool.map(read, children))
    locale_money: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for done in reads:
        child, rural = done.child, done.rural
        figures = ChildFigures(child.code, child.name, rural.position,
                               rural_to_urban_per_student_ratio=rural.rural_to_urban_per_student_ratio,
                               read_seconds=round(done.seconds, 4))
        for row in rural.rows:
            report.by_locale.append({"bureau": child.code, **asdict(row)})
            if row.unit == MONEY_UNIT:
                figures.allocated += row.allocated
                figures.spent += row.spent
                figures.students += row.students
                locale_money[row.locale][0] += row.allocated
                locale_money[row.locale][1] += row.students
        figures.per_student_allocated = per_student(figures.allocated, figures.students)
        report.by_category_source += [{"bureau": child.code, **asdict(t)} for t in done.totals]
        report.counties += [{"bureau": child.code, **asdict(c)} for c in rural.counties]
        report.children.append(figures)
    allocated = sum(c.allocated for c in report.children)
    students = sum(c.students for c in report.children)
    report.totals = {
        "unit": MONEY_UNIT, "allocated": allocated,
        "spent": sum(c.spent for c in report.children), "students": students,
        "per_student_allocated": per_student(allocated, students),
        "rural_to_urban_per_student_ratio": rural_to_urban_ratio(locale_money),
    }
    return report
