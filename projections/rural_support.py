"""The rural-support report: where the year's money went by district and locale, and how
evenly it reached the pupils of each county.

Money is attributed to the locale, and per-pupil figures to the enrolment, in force at each
allocation's effective date (a school reclassified from rural to town in June keeps its
spring allocations in the rural row). A school's pupils in a row are its enrolment at the
latest such date among its allocations in that row.

The difference coefficient (差异系数) of a county and level is the pupil-weighted coefficient
of variation of per-pupil allocation across its schools (domain.md §3.1):
X̄ = Σ PᵢXᵢ / P, S = √(Σ (Pᵢ/P)(Xᵢ − X̄)²), CV = S / X̄, held to ≤ 0.50 (primary) and
≤ 0.45 (junior) by 教督〔2017〕6号. As that rule does, it covers the compulsory schools of the
county open in the year with at least 50 pupils, including those that received nothing
(an unfunded school is the inequity the measure is for).

Money stays integer; per-pupil amounts are integer minor units rounded half up; ratios and
coefficients are derived report figures and the only floats.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

THRESHOLDS = {"primary": 0.50, "junior": 0.45}
STUDENTS_MIN = 50
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
    district: str
    level: str
    unit: str
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


def difference_coefficient(pupils_and_amounts: list[tuple[int, int]]) -> float | None:
    """CV = S / X̄ with X̄ = Σ PᵢXᵢ / P, S = √(Σ (Pᵢ/P)(Xᵢ − X̄)²), Xᵢ = amountᵢ / Pᵢ."""
    pupils = sum(p for p, _ in pupils_and_amounts)
    if pupils == 0:
        return None
    mean = sum(a for _, a in pupils_and_amounts) / pupils
    if mean == 0:
        return None
    variance = sum(p / pupils * (a / p - mean) ** 2 for p, a in pupils_and_amounts)
    return math.sqrt(variance) / mean


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
    year_end = date(fiscal_year, 12, 31)
    reference_day = min(as_of, year_end) if as_of else year_end
    groups: dict[tuple[str, str, str], dict[str, _Received]] = defaultdict(dict)
    by_school: dict[tuple[str, str], _Received] = defaultdict(_Received)
    for total in totals:
        school = schools[total.school]
        locale = str(locales[total.school].on(total.allocation_date))
        groups[(school.district, locale, total.unit)].setdefault(total.school, _Received()).add(total)
        by_school[(total.school, total.unit)].add(total)

    rows = []
    locale_money: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (district, locale, unit), cells in sorted(groups.items()):
        students = sum(_pupils(enrolments[code], cell.latest) for code, cell in cells.items())
        allocated = sum(cell.allocated for cell in cells.values())
        spent = sum(cell.spent for cell in cells.values())
        rows.append(RuralSupportRow(district, locale, unit, len(cells), students, allocated,
                                    spent, per_student(allocated, students),
                                    per_student(spent, students)))
        if unit == MONEY_UNIT:
            locale_money[locale][0] += allocated
            locale_money[locale][1] += students
    rural, urban = locale_money.get("rural"), locale_money.get("urban")
    ratio = None
    if rural and urban and rural[1] and urban[1] and urban[0]:
        ratio = (rural[0] / rural[1]) / (urban[0] / urban[1])

    units = sorted({total.unit for total in totals})
    counties: dict[tuple[str, str, str], list[tuple[int, int]]] = defaultdict(list)
    for code, school in sorted(schools.items()):
        if school.level not in THRESHOLDS or school.registered_on > reference_day:
            continue
        if school.closed_on is not None and school.closed_on <= date(fiscal_year, 1, 1):
            continue
        for unit in units:
            received = by_school.get((code, unit))
            pupils = _pupils(enrolments[code], received.latest if received else reference_day)
            if pupils >= STUDENTS_MIN:
                counties[(school.district, school.level, unit)].append(
                    (pupils, received.allocated if received else 0))
    coefficients = []
    for (district, level, unit), members in sorted(counties.items()):
        if not any(amount for _, amount in members):
            continue  # the county's schools of this level received nothing in this unit
        cv = difference_coefficient(members)
        threshold = THRESHOLDS[level]
        coefficients.append(CountyCoefficient(
            district, level, unit, len(members), sum(p for p, _ in members),
            None if cv is None else round(cv, 6), threshold,
            None if cv is None else cv <= threshold))
    return RuralSupportReport(fiscal_year, as_of, position, rows, ratio, coefficients)


def _pupils(enrolment: DatedValues, day: date) -> int:
    value = enrolment.on(day)
    assert isinstance(value, int)
    return value
