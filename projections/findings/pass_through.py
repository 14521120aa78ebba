"""Pass-through latency (滞留 / 未及时拨付): money the bureau received but did not pass on to
schools within the deadline of the Budget Law.

预算法 art. 52: a county-level budget issues its general transfers to lower levels within
30 days and its special (earmarked) transfers within 60 days of the budget's approval;
central special transfers are due within 90 days. An audit finding reads "未按规定时间及时
分解拨付" (not broken down and paid on time; 审计署 2020 Q4, 16 counties).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from projections.findings import as_of
from projections.findings.rule import Finding, Rule

if TYPE_CHECKING:
    from collections.abc import Mapping

    from projections.database import ViewDatabase
    from projections.findings.rule import Scope


def late_allocations(session: ViewDatabase, scope: Scope, params: Mapping[str, Any]) -> list[Finding]:
    """Allocations approved, or still awaiting approval, more than `deadline_days` after the
    bureau received the money they pass on.

    The money's receipt is the fund's latest receipt (opening, appropriation increase or
    carry-in) on or before the allocation was proposed, so a tranche received mid-year is
    measured from its own arrival. Transfers between schools and carry-overs pass nothing on
    and are left out.
    """
    deadline_days = int(params["deadline_days"])
    receipts = session.dicts(
        "SELECT fund_code, effective_date, position FROM findings_fund_receipts "
        "WHERE delta > 0 AND effective_date <= ? AND position <= ? ORDER BY effective_date, position",
        (scope.day, scope.position_max),
    )
    by_fund: dict[str, list[dict[str, Any]]] = {}
    for receipt in receipts:
        by_fund.setdefault(receipt["fund_code"], []).append(receipt)
    findings = []
    for row in as_of.allocations(session, scope):
        if row["origin"] != "proposal" or row["decision"] == "rejected":
            continue
        received = [r for r in by_fund.get(row["fund_code"], []) if r["effective_date"] <= row["proposed_on"]]
        if not received:
            continue
        receipt = received[-1]
        passed_on = row["decided_on"] or scope.day
        latency_days = (date.fromisoformat(passed_on) - date.fromisoformat(receipt["effective_date"])).days
        if latency_days <= deadline_days:
            continue
        state = f"approved on {passed_on}" if row["decided_on"] else f"still awaiting approval on {scope.day}"
        evidence = [receipt["position"], row["proposed_position"]]
        if row["decided_position"] is not None:
            evidence.append(row["decided_position"])
        findings.append(
            Finding(
                rule="pass_through_late",
                fiscal_year=scope.fiscal_year,
                key={"allocation_id": row["allocation_id"]},
                measure=latency_days,
                threshold=deadline_days,
                message=(
                    f"allocation of {row['fund_code']} to {row['school_code']} {state}, "
                    f"{latency_days} days after the fund received the money on "
                    f"{receipt['effective_date']} (deadline {deadline_days} days)"
                ),
                message_zh=(
                    f"{row['fund_code']} 下达给 {row['school_code']} 的拨款"
                    + (f"于 {passed_on} 批准" if row["decided_on"] else f"截至 {scope.day} 仍待审批")
                    + f"，距资金 {receipt['effective_date']} 到账已 {latency_days} 天"
                    + f"（时限 {deadline_days} 天）"
                ),
                measure_unit="days",
                evidence=tuple(sorted(set(evidence))),
                amount_minor=row["amount"],
                unit=row["unit"],
            )
        )
    return findings


RULES = (
    Rule(
        name="pass_through_late",
        title="Allocations passed on to schools later than the Budget Law deadline",
        basis="预算法 art. 52 (transfers issued within 30/60/90 days); 审计署 2020 Q4 follow-up "
        "audit of 城乡义务教育补助经费 (late pass-through in 16 counties)",
        params={"deadline_days": 60},
        query=late_allocations,
    ),
)
