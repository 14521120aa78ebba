"""The rural-support report: where the year's money went by district and locale, per pupil,
and the rural/urban per-pupil ratio. Money only (CNY): teacher posts and devices are stocks
with views of their own (projections/stocks.py), not yearly per-pupil budgets.

Money is attributed to the locale, and per-pupil figures to the enrolment, in force at each
allocation's effective date (a school reclassified from rural to town in June keeps its
spring allocations in the rural row). A school's pupils in a row are its enrolment at the
latest such date among its allocations in that row.

The difference coefficients (差异系数) in `counties` are the balanced-development
evaluation's (教督〔2017〕6号 over seven resource stocks; domain/balanced_development.py),
attached by the query as of the report's day — one definition, the national one. A spread
of one year's allocations has no national threshold and is not reported as one.

Money stays integer; per-pupil amounts are integer minor units rounded half up; the ratio
is a derived report figure.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.balanced_development import CountyEvaluation

MONEY_UNIT = "CNY"


@dataclass(frozen=True)
class RuralSupportRow:
    district: str
    locale: str
    unit: str
    schools: int
    students: int
    allocated: int
    spent: int
    per_student_allocated: int | None
    per_student_spent: int | None


@dataclass(frozen=True)
class CountyCoefficient:
    """One indicator's CV in one county-level unit and stage, from the evaluation."""

    district: str
    level: str  # the stage: primary or junior
    indicator: str
    schools: int
    students: int
    difference_coefficient: float | None
    threshold: float
    within_threshold: bool | None


@dataclass(frozen=True)
class RuralSupportReport:
    fiscal_year: int
    as_of: date | None
    position: int
    rows: list[RuralSupportRow]
    rural_to_urban_per_student_ratio: float | None
    counties: list[CountyCoefficient]


@dataclass(frozen=True)
class SchoolFacts:
    code: str
    district: str
    level: str
    registered_on: date
    closed_on: date | None


class DatedValues:
    """A school's locale or enrolment over time: the value in force on a day."""

    def __init__(self, changes: list[tuple[date, int, object]]) -> None:
        # (effective date, position, value); on the same day the later event wins.
        changes.sort(key=lambda change: (change[0], change[1]))
        self.days = [day for day, _, _ in changes]
        self.values = [value for _, _, value in changes]

    def on(self, day: date) -> object:
        """The value in force on `day`; before the first change, the first value."""
        index = bisect_right(self.days, day) - 1
        return self.values[max(index, 0)]


@dataclass(frozen=True)
class AllocationTotal:
    """What one school received in one unit from allocations opened on one day."""

    school: str
    unit: str
    allocation_date: date
    allocated: int
    spent: int


def per_student(amount: int, students: int) -> int | None:
    """Minor units per pupil, rounded half up, in integers."""
    if students <= 0:
        return None
    return (2 * amount + students) // (2 * students)


@dataclass
class _Received:
    """A school's allocations in one report cell: totals and the latest allocation date."""

    allocated: int = 0
    spent: int = 0
    latest: date = date.min

    def add(self, total: AllocationTotal) -> None:
        self.allocated += total.allocated
        self.spent += total.spent
        self.latest = max(self.latest, total.allocation_date)


def build_report(fiscal_year: int, as_of: date | None, position: int,
                 schools: dict[str, SchoolFacts], locales: dict[str, DatedValues],
                 enrolments: dict[str, DatedValues],
                 totals: list[AllocationTotal]) -> RuralSupportReport:
    groups: dict[tuple[str, str, str], dict[str, _Received]] = defaultdict(dict)
    for total in totals:
        if total.unit != MONEY_UNIT:
            continue
        school = schools[total.school]
        locale = str(locales[total.school].on(total.allocation_date))
        groups[(school.district, locale, total.unit)].setdefault(total.school, _Received()).add(total)

    rows = []
    locale_money: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (district, locale, unit), cells in sorted(groups.items()):
        students = sum(_pupils(enrolments[code], cell.latest) for code, cell in cells.items())
        allocated = sum(cell.allocated for cell in cells.values())
        spent = sum(cell.spent for cell in cells.values())
        rows.append(RuralSupportRow(district, locale, unit, len(cells), students, allocated,
                                    spent, per_student(allocated, students),
                                    per_student(spent, students)))
        locale_money[locale][0] += allocated
        locale_money[locale][1] += students
    return RuralSupportReport(fiscal_year, as_of, position, rows,
                              rural_to_urban_ratio(locale_money), [])


def rural_to_urban_ratio(locale_money: dict[str, list[int]]) -> float | None:
    """Rural per-pupil money over urban per-pupil money, from [money, pupils] by locale."""
    rural, urban = locale_money.get("rural"), locale_money.get("urban")
    if rural and urban and rural[1] and urban[1] and urban[0]:
        return (rural[0] / rural[1]) / (urban[0] / urban[1])
    return None


def report_day(fiscal_year: int, as_of: date | None) -> date:
    """The day the report's stocks are evaluated on: its as-of day, at most the year's end."""
    year_end = date(fiscal_year, 12, 31)
    return min(as_of, year_end) if as_of else year_end


def _pupils(enrolment: DatedValues, day: date) -> int:
    value = enrolment.on(day)
    assert isinstance(value, int)
    return value


def county_coefficients(evaluations: list[CountyEvaluation]) -> list[CountyCoefficient]:
    """The evaluation's CVs, one row per county-level unit, stage and indicator."""
    rows = []
    for county in evaluations:
        for stage in county.stages:
            for spread in stage.spreads:
                cv = spread.coefficient
                rows.append(CountyCoefficient(
                    county.district, stage.stage.value, spread.indicator.value, spread.schools,
                    spread.pupils, None if cv is None else float(cv.quantize(Decimal("0.0001"))),
                    float(spread.threshold), spread.within_threshold))
    return rows
