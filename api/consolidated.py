"""A supervisor's consolidated report (issue 15, contract): its county-level bureaus' books
read side by side as of a day, each from its own views, nothing copied.

Each child is read in one consistent snapshot of its views and the report states the position
it read (and how far the child's log had gone), so the same question asked again of the
same positions gives the same answer. Totals are sums of the children's integers; per-pupil
figures and the rural/urban ratio are computed from those sums, never averaged.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from api.settings import Settings
from api.store import bureau_settings
from domain.bureau_registry import BureauInfo
from projections.consolidation import CategorySourceTotal, category_source_totals
from projections.queries import BureauQueries
from projections.rural_support import RuralSupportReport, per_student, rural_to_urban_ratio

MONEY_UNIT = "CNY"
# Children read at once: their reads are mostly the database's (each on a connection of its
# own), so a few overlap well; more only queue on this machine's two cores.
FAN_OUT_THREADS_MAX = 4


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


@contextmanager
def child_views(settings: Settings, child: str) -> Iterator[BureauQueries]:
    """The child's views, on a connection opened for this read (in the fan-out's thread) and
    closed after it: a server's own reader of the bureau keeps a connection per thread."""
    queries = BureauQueries(bureau_settings(settings, child))
    try:
        yield queries
    finally:
        queries.close()


def consolidate(settings: Settings, supervisor: BureauInfo, children: list[BureauInfo],
                fiscal_year: int, as_of: date | None, *, evaluation: bool = True) -> Consolidated:
    """Reads each child's views (see the module's docstring) and puts them side by side. The
    children are read concurrently, a few at a time: most of a read is the database's."""
    report = Consolidated(supervisor.code, supervisor.name, supervisor.level.value,
                          fiscal_year, as_of)

    def read(child: BureauInfo) -> ChildRead:
        started = time.monotonic()
        with child_views(settings, child.code) as views:
            rural = views.rural_support(fiscal_year, as_of, evaluation=evaluation)
            db = views.stocks_db()
            with db.snapshot():
                totals = category_source_totals(db, fiscal_year, as_of, rural.position)
        return ChildRead(child, rural, totals, time.monotonic() - started)

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
