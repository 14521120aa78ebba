"""Rural-support equity: the county difference coefficient and the rural/urban ratio.

教督〔2017〕6号 (县域义务教育优质均衡发展督导评估办法) holds each county's between-school
difference coefficient (差异系数: the pupil-weighted coefficient of variation of a
per-pupil indicator) to ≤ 0.50 for primary and ≤ 0.45 for junior schools, over compulsory
schools of at least 50 pupils. The bureau's duty to narrow the urban–rural gap is watched
through the rural/urban per-pupil allocation ratio, year on year.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.terms import term
from projections.findings import as_of
from projections.findings.benchmark import allocation_positions
from projections.findings.rule import Finding, Rule, Scope

if TYPE_CHECKING:
    from collections.abc import Mapping

    from projections.database import ViewDatabase


def difference_coefficient(pupils_and_amounts: list[tuple[int, int]]) -> float:
    """CV = S / X̄ with X̄ = Σ PᵢXᵢ / P and S = √(Σ (Pᵢ/P)(Xᵢ − X̄)²), Xᵢ = amountᵢ / Pᵢ."""
    pupils = sum(p for p, _ in pupils_and_amounts)
    mean = sum(a for _, a in pupils_and_amounts) / pupils
    if mean == 0:
        return 0.0
    variance = sum(p / pupils * (a / p - mean) ** 2 for p, a in pupils_and_amounts)
    return math.sqrt(variance) / mean


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
    """Counties (districts) whose difference coefficient of per-pupil allocation exceeds the
    threshold of the level."""
    categories = tuple(params["categories"])
    allocated = _allocated_by_school(session, scope, categories)
    groups: dict[tuple[str, str], list[tuple[int, int, tuple[int, ...]]]] = defaultdict(list)
    for code, school in as_of.schools_on(session, scope).items():
        if school.level in ("primary", "junior") and school.students >= int(params["students_min"]):
            amount, evidence = allocated.get(code, (0, []))
            groups[(school.district, school.level)].append(
                (school.students, amount, (*evidence, *school.evidence))
            )
    findings = []
    for (district, level), rows in sorted(groups.items()):
        if len(rows) < int(params["schools_min"]):
            continue
        cv = difference_coefficient([(p, a) for p, a, _ in rows])
        limit = float(params[f"difference_coefficient_max_{level}"])
        if cv <= limit:
            continue
        findings.append(
            Finding(
                rule="difference_coefficient",
                fiscal_year=scope.fiscal_year,
                key={"district": district, "level": level},
                measure=round(cv, 4),
                threshold=limit,
                message=(
                    f"{district}: the difference coefficient of per-pupil allocation across "
                    f"{len(rows)} {level} schools is {cv:.2f}, above {limit:.2f}"
                ),
                message_zh=(
                    f"{term(district, 'zh')} {len(rows)} 所{term(level, 'zh')}生均下达的差异系数为 "
                    f"{cv:.2f}，高于 {limit:.2f}"
                ),
                measure_unit="ratio",
                evidence=tuple(sorted({p for _, _, ev in rows for p in ev})),
            )
        )
    return findings


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
    Rule(
        name="difference_coefficient",
        title="Counties whose difference coefficient of per-pupil allocation exceeds the threshold",
        basis="教督〔2017〕6号 县域义务教育优质均衡发展督导评估办法: 差异系数 ≤ 0.50 primary, ≤ 0.45 junior",
        params={
            "difference_coefficient_max_primary": 0.50,
            "difference_coefficient_max_junior": 0.45,
            "students_min": 50,
            "schools_min": 3,
            "categories": ("public_operating",),
        },
        query=county_coefficients,
        exactly_defined=False,
    ),
    Rule(
        name="rural_urban_ratio",
        title="Rural/urban per-pupil allocation ratio low or falling",
        basis="Bureau duty to narrow the urban–rural gap; 城乡生均经费比 targets (configurable)",
        params={"ratio_min": 1.0, "ratio_drop_max": 0.05, "categories": ()},
        query=rural_urban_ratio,
        exactly_defined=False,
    ),
)
