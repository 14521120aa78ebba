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
from projections.findings.rule import Finding, defined_rule

if TYPE_CHECKING:
    from collections.abc import Mapping

    from projections.database import ViewDatabase
    from projections.findings.rule import Scope


def _surges(
    session: ViewDatabase, scope: Scope, params: Mapping[str, Any], by: str, rule: str
) -> list[Finding]:
    december_start = f"{scope.fiscal_year}-12-01"
    last_days_start = f"{scope.fiscal_year}-12-{32 - int(params['last_days']):02d}"
    total: dict[str, int] = defaultdict(int)
    december: dict[str, int] = defaultdict(int)
    last_days: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    evidence: dict[str, list[int]] = defaultdict(list)
    live = as_of.spending(session, scope)
    for subject, unit, amount, spent_on, position in zip(
            getattr(live, by), live.unit, live.amount, live.spent_on, live.position, strict=True):
        if unit != "CNY":
            continue
        total[subject] += amount
        count[subject] += 1
        if spent_on >= december_start:
            december[subject] += amount
            evidence[subject].append(position)
        if spent_on >= last_days_start:
            last_days[subject] += amount
    december_bp = int(params["december_share_max_basis_points"])
    last_bp = int(params["last_days_share_max_basis_points"])
    findings = []
    for subject in sorted(total):
        if count[subject] < int(params["expenditures_min"]):
            continue
        over_december = december[subject] * 10_000 > total[subject] * december_bp
        over_last = last_days[subject] * 10_000 > total[subject] * last_bp
        if not (over_december or over_last):
            continue
        share = december[subject] / total[subject]
        last_share = last_days[subject] / total[subject]
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
                amount_minor=december[subject],
                unit="CNY",
            )
        )
    return findings


def school_surge(session: ViewDatabase, scope: Scope, params: Mapping[str, Any]) -> list[Finding]:
    """Schools whose December (or last-days) share of the year's CNY spending is too high."""
    return _surges(session, scope, params, "school_code", "december_surge")


def fund_surge(session: ViewDatabase, scope: Scope, params: Mapping[str, Any]) -> list[Finding]:
    """Funds whose December (or last-days) share of the year's spending is too high."""
    return _surges(session, scope, params, "fund_code", "december_surge_fund")


# The same question asked of each school and of each fund (rules.toml gives both the same
# basis and parameters).
RULES = (
    defined_rule("december_surge", school_surge),
    defined_rule("december_surge_fund", fund_surge),
)
