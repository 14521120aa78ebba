"""Rural-support equity: the balanced-development evaluation and the rural/urban ratio.

The county rule is the national one (教督〔2017〕6号, 县域义务教育优质均衡发展督导评估办法),
evaluated exactly as GET /v1/reports/balanced-development evaluates it
(domain/balanced_development.py over the resource stocks): a county-level unit is found for
each stage and indicator whose pupil-weighted difference coefficient (差异系数) across its
compulsory schools exceeds 0.50 (primary) or 0.45 (junior). The bureau's duty to narrow the
urban–rural gap in money is watched through the rural/urban per-pupil allocation ratio.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.balanced_development import DEFINITIONS
from domain.terms import term
from projections.findings import as_of
from projections.findings.benchmark import allocation_positions
from projections.findings.rule import Finding, Scope, defined_rule
from projections.stock_queries import SchoolOnDay, evaluate, evidence_positions

if TYPE_CHECKING:
    from collections.abc import Mapping

    from projections.database import ViewDatabase


def _allocated_by_school(
    session: ViewDatabase, scope: Scope, categories: tuple[str, ...]
) -> dict[str, tuple[int, list[int]]]:
    totals: dict[str, int] = defaultdict(int)
    evidence: dict[str, list[int]] = defaultdict(list)
    for row in as_of.allocations(session, scope):
        if row["unit"] == "CNY" and row["allocated"] and (not categories or row["category"] in categories):
            totals[row["school_code"]] += row["allocated"]
            evidence[row["school_code"]].extend(allocation_positions(row))
    return {code: (totals[code], evidence[code]) for code in totals}


def county_coefficients(session: ViewDatabase, scope: Scope, params: Mapping[str, Any]) -> list[Finding]:
    """County-level units whose difference coefficient of an indicator exceeds the stage's
    threshold, on the scope's day."""
    on_day = as_of.schools_on(session, scope)
    schools = [SchoolOnDay(code, code, s.district, s.level, s.locale, s.students)
               for code, s in sorted(on_day.items())]
    findings = []
    for county in evaluate(session, scope.as_of, schools=schools):
        for stage in county.stages:
            if len(stage.schools) < int(params["schools_min"]):
                continue
            for spread in stage.spreads:
                if spread.within_threshold is not False or spread.coefficient is None:
                    continue
                name = DEFINITIONS[spread.indicator].name_en
                findings.append(Finding(
                    rule="difference_coefficient",
                    fiscal_year=scope.fiscal_year,
                    key={"district": county.district, "level": stage.stage.value,
                         "indicator": spread.indicator.value},
                    measure=float(spread.coefficient),
                    threshold=float(spread.threshold),
                    message=(f"{county.district}: the difference coefficient of {name} across "
                             f"{spread.schools} {stage.stage.value} schools is "
                             f"{spread.coefficient:.2f}, above {float(spread.threshold):.2f}"),
                    message_zh=(f"{term(county.district, 'zh')} {spread.schools} 所"
                                f"{term(stage.stage.value, 'zh')}"
                                f"{DEFINITIONS[spread.indicator].name_zh}的差异系数为 "
                                f"{spread.coefficient:.2f}，高于 {float(spread.threshold):.2f}"),
                    measure_unit="ratio",
                    evidence=_evidence(session, scope, stage, spread.indicator, on_day),
                ))
    return findings


def _evidence(session: ViewDatabase, scope: Scope, stage: Any, indicator: Any,
              on_day: Mapping[str, Any]) -> tuple[int, ...]:
    """The schools' registration and enrolment events and the stock events the figures rest on."""
    codes = sorted({r.part.school.code for r in stage.schools})
    positions = {p for code in codes for p in on_day[code].evidence}
    positions.update(evidence_positions(session, scope.as_of, codes, indicator))
    return tuple(sorted(positions))


def _ratio(session: ViewDatabase, scope: Scope, categories: tuple[str, ...]) -> float | None:
    allocated = _allocated_by_school(session, scope, categories)
    money: dict[str, int] = defaultdict(int)
    pupils: dict[str, int] = defaultdict(int)
    for code, school in as_of.schools_on(session, scope).items():
        money[school.locale] += allocated.get(code, (0, []))[0]
        pupils[school.locale] += school.students
    if not (money["urban"] and pupils["urban"] and pupils["rural"]):
        return None
    return (money["rural"] / pupils["rural"]) / (money["urban"] / pupils["urban"])


def rural_urban_ratio(session: ViewDatabase, scope: Scope, params: Mapping[str, Any]) -> list[Finding]:
    """The year's rural/urban per-pupil allocation ratio, when under `ratio_min` or fallen
    by more than `ratio_drop_max` since the year before (each year as of its own year end,
    or as of the scope's day if earlier)."""
    categories = tuple(params["categories"])
    now = _ratio(session, scope, categories)
    if now is None:
        return []
    before_day = min(scope.as_of, date(scope.fiscal_year - 1, 12, 31))
    before = _ratio(session, Scope(scope.fiscal_year - 1, before_day, scope.position_max), categories)
    low = now < float(params["ratio_min"])
    fell = before is not None and now < before - float(params["ratio_drop_max"])
    if not (low or fell):
        return []
    trend = f" (was {before:.2f} in {scope.fiscal_year - 1})" if before is not None else ""
    trend_zh = f"（{scope.fiscal_year - 1} 年为 {before:.2f}）" if before is not None else ""
    return [
        Finding(
            rule="rural_urban_ratio",
            fiscal_year=scope.fiscal_year,
            key={"fiscal_year": scope.fiscal_year},
            measure=round(now, 4),
            threshold=float(params["ratio_min"]),
            message=f"rural pupils received {now:.2f}× the urban per-pupil allocation{trend}",
            message_zh=f"乡村生均下达为城区的 {now:.2f} 倍{trend_zh}",
            measure_unit="ratio",
            evidence=(),
        )
    ]


RULES = (
    defined_rule("difference_coefficient", county_coefficients),
    defined_rule("rural_urban_ratio", rural_urban_ratio),
)
