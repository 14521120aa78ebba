"""Schools below the per-student public operating benchmark (生均公用经费基准定额).

财教〔2006〕5号 set the purpose and use of rural operating funds; from spring 2016 urban and
rural schools share one benchmark, ¥650 per primary and ¥850 per junior pupil a year in the
eastern provinces, and ¥6,000 per pupil in special-education schools. Schools under 100
pupils are funded as if they had 100 (the small-school floor). 审计署 2020 Q4 found 41
schools below the national benchmark.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from domain.terms import term
from domain.units import money_text
from projections.findings import as_of
from projections.findings.rule import Finding, defined_rule, school_shortfall

if TYPE_CHECKING:
    from collections.abc import Mapping

    from projections.database import ViewDatabase
    from projections.findings.rule import Scope


def benchmark_fen(level: str, params: Mapping[str, Any]) -> int | None:
    """The yearly benchmark for a school level; a nine-year school is held to the primary one,
    the lower of its two, so that a finding never rests on a guess of its grade mix."""
    key = {"primary": "primary", "nine_year": "primary", "junior": "junior", "special": "special"}.get(level)
    return None if key is None else int(params[f"benchmark_fen_per_student_{key}"])


def allocation_positions(row: Mapping[str, Any]) -> list[int]:
    """The events that made an allocation's balance: its decision and its last change."""
    return [p for p in (row["decided_position"], row["last_position"]) if p is not None]


def operating_allocated(
    session: ViewDatabase, scope: Scope, category: str
) -> dict[str, tuple[int, list[int]]]:
    """Per school: CNY allocated as of the scope from funds of one category, with evidence."""
    totals: dict[str, int] = defaultdict(int)
    evidence: dict[str, list[int]] = defaultdict(list)
    for row in as_of.allocations(session, scope):
        if row["category"] == category and row["unit"] == "CNY" and row["allocated"]:
            totals[row["school_code"]] += row["allocated"]
            evidence[row["school_code"]].extend(allocation_positions(row))
    return {code: (totals[code], evidence[code]) for code in totals}


def below_benchmark(session: ViewDatabase, scope: Scope, params: Mapping[str, Any]) -> list[Finding]:
    """Schools whose public operating allocation for the year is below benchmark × pupils,
    counting at least `small_school_floor_students` pupils."""
    floor = int(params["small_school_floor_students"])
    allocated = operating_allocated(session, scope, "public_operating")
    findings = []
    for code, school in sorted(as_of.schools_on(session, scope).items()):
        rate = benchmark_fen(school.level, params)
        if rate is None or school.students == 0:
            continue
        counted = max(school.students, floor)
        total, evidence = allocated.get(code, (0, []))
        required = rate * counted
        if total >= required:
            continue
        findings.append(school_shortfall(
            "below_benchmark", scope, code, short_fen=required - total,
            measure=total // counted, threshold=rate, measure_unit="CNY",
            message=(
                f"{code} ({school.level}, {school.students} pupils, counted {counted}) "
                f"has {money_text(total)} of public operating funds: "
                f"{money_text(total // counted)} per pupil, below {money_text(rate)}"
            ),
            message_zh=(
                f"{code}（{term(school.level, 'zh')}，学生 {school.students} 人，按 {counted} 人计）"
                f"公用经费 {money_text(total, language='zh')}，生均 "
                f"{money_text(total // counted, language='zh')}，"
                f"低于基准定额 {money_text(rate, language='zh')}"
            ),
            evidence=[*evidence, *school.evidence]))
    return findings


def below_standard_accepted(session: ViewDatabase, scope: Scope,
                            params: Mapping[str, Any]) -> list[Finding]:
    """Hand allocations of a formula-funded fund proposed below the per-pupil standard: the
    fund let them through only with the proposer's reason, which the finding shows."""
    del params
    rows = session.dicts(
        """SELECT b.allocation_id, b.standard_amount, b.reason, b.position, a.school_code,
                  a.fund_code, a.amount, a.unit, a.proposed_position
           FROM findings_below_standard b
           JOIN findings_allocations a ON a.allocation_id = b.allocation_id
           WHERE a.fiscal_year = ? AND b.effective_date <= ? AND b.position <= ?
           ORDER BY b.position""",
        (scope.fiscal_year, scope.day, scope.position_max))
    return [
        Finding(
            rule="below_standard_accepted",
            fiscal_year=scope.fiscal_year,
            key={"allocation": row["allocation_id"]},
            measure=int(row["amount"]),
            threshold=int(row["standard_amount"]),
            message=(f"{row['school_code']} was proposed {money_text(row['amount'], row['unit'])} "
                     f"of {row['fund_code']}, below the standard's "
                     f"{money_text(row['standard_amount'], row['unit'])} a semester; reason "
                     f"given: {row['reason']}"),
            evidence=(int(row["proposed_position"]), int(row["position"])),
            amount_minor=int(row["standard_amount"]) - int(row["amount"]),
            unit=row["unit"],
        )
        for row in rows
    ]


RULES = (
    defined_rule("below_benchmark", below_benchmark),
    defined_rule("below_standard_accepted", below_standard_accepted),
)
