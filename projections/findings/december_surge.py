"""Year-end surge ("突击花钱"): a large share of the year's spending booked in December, or
in its last days.

National figures show it: by end-November 2009 only 73.8% of the year's budget was spent,
leaving about ¥2 trillion for December (经济日报); US agencies obligate 16.9% of their
budgets in September. The generator's normal seasonality puts about 22% of non-salary
spending in December, so the default thresholds sit well above it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from projections.findings import as_of
from projections.findings.rule import Finding, Rule

if TYPE_CHECKING:
    from collections.abc import Mapping

    from projections.database import ViewDatabase
    from projections.findings.rule import Scope

SUBJECTS_PER_QUERY_MAX = 500  # parameters of one IN list


def _surges(
    session: ViewDatabase, scope: Scope, params: Mapping[str, Any], by: str, rule: str
) -> list[Finding]:
    december_start = f"{scope.fiscal_year}-12-01"
    last_days_start = f"{scope.fiscal_year}-12-{32 - int(params['last_days']):02d}"
    december_bp = int(params["december_share_max_basis_points"])
    last_bp = int(params["last_days_share_max_basis_points"])
    # Each subject's sums in one aggregate over the year's CNY spending (a row a school or
    # fund); the shares are compared here, in Python's exact integers.
    sums = session.rows(
        f"""SELECT x.{by}, SUM(x.amount),
                   SUM(CASE WHEN x.spent_on >= ? THEN x.amount ELSE 0 END),
                   SUM(CASE WHEN x.spent_on >= ? THEN x.amount ELSE 0 END)
            FROM {as_of.LIVE_EXPENDITURES} AND x.unit = 'CNY'
            GROUP BY x.{by} HAVING COUNT(*) >= ?""",  # noqa: S608  (`by` is one of two column names)
        (december_start, last_days_start, *as_of.live_params(scope),
         int(params["expenditures_min"])))
    found = {}
    for subject, *figures in sums:
        total, december, last_days = (int(figure) for figure in figures)  # NUMERIC on PostgreSQL
        if december * 10_000 > total * december_bp or last_days * 10_000 > total * last_bp:
            found[subject] = (total, december, last_days)
    evidence = _december_positions(session, scope, by, sorted(found), december_start)
    findings = []
    for subject in sorted(found):
        total, december, last_days = found[subject]
        over_december = december * 10_000 > total * december_bp
        share = december / total
        last_share = last_days / total
        findings.append(
            Finding(
                rule=rule,
                fiscal_year=scope.fiscal_year,
                key={by.removesuffix("_code"): subject},
                measure=round(share if over_december else last_share, 4),
                threshold=(december_bp if over_december else last_bp) / 10_000,
                message=(
                    f"{subject} booked {share:.0%} of its {scope.fiscal_year} spending in December "
                    f"and {last_share:.0%} in the last {params['last_days']} days"
                ),
                message_zh=(
                    f"{subject} {scope.fiscal_year} 年支出的 {share:.0%} 记在12月，"
                    f"{last_share:.0%} 记在最后 {params['last_days']} 天"
                ),
                measure_unit="share",
                evidence=tuple(evidence[subject]),
                amount_minor=december,
                unit="CNY",
            )
        )
    return findings


def _december_positions(session: ViewDatabase, scope: Scope, by: str, subjects: list[str],
                        december_start: str) -> dict[str, list[int]]:
    """The December CNY spending of the subjects found, in position order (their evidence)."""
    positions: dict[str, list[int]] = defaultdict(list)
    for start in range(0, len(subjects), SUBJECTS_PER_QUERY_MAX):
        chunk = subjects[start:start + SUBJECTS_PER_QUERY_MAX]
        for subject, position in session.rows(
                f"SELECT x.{by}, x.position FROM {as_of.LIVE_EXPENDITURES} "  # noqa: S608
                f"AND x.unit = 'CNY' AND x.spent_on >= ? AND x.{by} IN ({session.dialect.marks(len(chunk))}) "
                "ORDER BY x.position",
                (*as_of.live_params(scope), december_start, *chunk)):
            positions[subject].append(int(position))
    return positions


def school_surge(session: ViewDatabase, scope: Scope, params: Mapping[str, Any]) -> list[Finding]:
    """Schools whose December (or last-days) share of the year's CNY spending is too high."""
    return _surges(session, scope, params, "school_code", "december_surge")


def fund_surge(session: ViewDatabase, scope: Scope, params: Mapping[str, Any]) -> list[Finding]:
    """Funds whose December (or last-days) share of the year's spending is too high."""
    return _surges(session, scope, params, "fund_code", "december_surge_fund")


_PARAMS = {
    "december_share_max_basis_points": 5_000,
    "last_days": 10,
    "last_days_share_max_basis_points": 3_500,
    "expenditures_min": 5,
}

RULES = (
    Rule(
        name="december_surge",
        title="Schools booking too much of the year's spending in December",
        basis="预算执行进度 (序时进度) practice; year-end spending studies (经济日报 2009, 2013)",
        params=_PARAMS,
        query=school_surge,
        exactly_defined=False,
    ),
    Rule(
        name="december_surge_fund",
        title="Funds booking too much of the year's spending in December",
        basis="预算执行进度 (序时进度) practice; year-end spending studies (经济日报 2009, 2013)",
        params=_PARAMS,
        query=fund_surge,
        exactly_defined=False,
    ),
)
