"""Pass-through latency (滞留 / 未及时拨付): money the bureau received but did not pass on to
schools within the deadline of the step it was on (预算法 art. 52; docs/findings.md).

The bureau is a department (部门) and its schools are its units (所属单位). The deadline
depends on where the money came from (the fund's issuing level) and on its kind:

- the bureau's own level (county): its approved budget goes to its units within 15 days of
  the department receiving it (art. 52 ¶1: "各部门应当在接到本级政府财政部门批复的本部门
  预算后十五日内向所属各单位批复预算");
- a transfer from a higher level: general transfers within 30 days, special (earmarked) ones
  within 60 days (art. 52 ¶4, the limits for a county-level budget's transfers to the level
  below); money the province passes on from the centre within 30 days whatever its kind
  (art. 52 ¶3). Applying these limits to the bureau's onward allocation to schools, counted
  from the day the money was received, is this project's reading (inference): the law times
  transfers between governments, not a department's onward issue of a transfer.

All limits are the rule's parameters (overridable like any rule's). An audit finding reads
"未按规定时间及时分解拨付" (not broken down and paid on time; 审计署 2020 Q4, 16 counties).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from projections.findings import as_of
from projections.findings.rule import Finding, allocation_late, defined_rule, definitions

if TYPE_CHECKING:
    from collections.abc import Mapping

    from projections.database import ViewDatabase
    from projections.findings.rule import Scope


# Personnel and per-pupil operating money are general (formula) money; the rest —
# projects, equipment, aid, nutrition, training, and anything earmarked — is special (专项).
# An inference from how transfers are named (一般性 / 专项转移支付), not a stated rule.
GENERAL_CATEGORIES = frozenset({"personnel", "public_operating"})
# The Budget Law's deadlines in days, by budget level and kind of transfer (rules.toml).
DEFAULT_DEADLINES: Mapping[str, int] = definitions()["pass_through_late"]["params"]


def transfer_kind(category: str, earmark: str) -> str:
    """`general` or `special` (专项): how a transfer of this fund's kind is timed."""
    return "general" if category in GENERAL_CATEGORIES and earmark == "none" else "special"


def deadline_days(params: Mapping[str, Any], issuing_level: str, category: str,
                  earmark: str) -> tuple[int, str]:
    """The step's limit in days and its name (the parameter that set it)."""
    if issuing_level in ("county", "other"):
        name = f"{issuing_level}_days"
    else:
        name = f"{issuing_level}_{transfer_kind(category, earmark)}_days"
    return int(params[name]), name


def late_allocations(session: ViewDatabase, scope: Scope, params: Mapping[str, Any]) -> list[Finding]:
    """Allocations approved, or still awaiting approval, later than their step's deadline
    (`deadline_days`) after the bureau received the money they pass on.

    The money's receipt is the fund's latest receipt (opening, appropriation increase or
    carry-in) on or before the allocation was proposed, so a tranche received mid-year is
    measured from its own arrival. Transfers between schools and carry-overs pass nothing on
    and are left out.
    """
    funds = {row["fund_code"]: row for row in session.dicts(
        "SELECT fund_code, issuing_level, category, earmark FROM findings_funds", ())}
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
        fund = funds[row["fund_code"]]
        limit, step = deadline_days(params, fund["issuing_level"], fund["category"], fund["earmark"])
        passed_on = row["decided_on"] or scope.day
        latency_days = (date.fromisoformat(passed_on) - date.fromisoformat(receipt["effective_date"])).days
        if latency_days <= limit:
            continue
        state = f"approved on {passed_on}" if row["decided_on"] else f"still awaiting approval on {scope.day}"
        findings.append(allocation_late(
            "pass_through_late", scope, row, days=latency_days, days_max=limit,
            says=(f"{state}, {latency_days} days after the fund received the money on "
                  f"{receipt['effective_date']} (deadline {limit} days, {STEPS[step][1]})"),
            says_zh=((f"于 {passed_on} 批准" if row["decided_on"] else f"截至 {scope.day} 仍待审批")
                     + f"，距资金 {receipt['effective_date']} 到账已 {latency_days} 天"
                     + f"（时限 {limit} 天，{STEPS[step][0]}）"),
            evidence=(receipt["position"], row["proposed_position"], row["decided_position"]),
            amount_minor=row["amount"]))
    return findings


# Each step's name for people: (zh, en).
STEPS: dict[str, tuple[str, str]] = {
    "county_days": ("本级部门向所属单位批复", "the department's budget to its units"),
    "other_days": ("其他来源资金", "money from another source"),
    **{f"{level}_{kind}_days": (f"{level_zh}{kind_zh}转移支付", f"{level} {kind} transfer")
       for level, level_zh in (("municipal", "市级"), ("provincial", "省级"), ("central", "中央"))
       for kind, kind_zh in (("general", "一般性"), ("special", "专项"))},
}


RULES = (defined_rule("pass_through_late", late_allocations),)
