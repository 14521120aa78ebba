"""Teacher-training share of public operating funds (教师培训费 ≥ 5%).

财教〔2006〕5号 and its successors reserve 5% of a school's annual public operating budget
(公用经费) for teacher training. The share is training spending booked to public operating
funds over the school's public operating allocation of the year, as of the day asked: asked
mid-year it shows progress, asked at year end it is the finding.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from domain.units import money_text
from projections.findings import as_of
from projections.findings.benchmark import operating_allocated
from projections.findings.rule import Finding, defined_rule, school_shortfall

if TYPE_CHECKING:
    from collections.abc import Mapping

    from projections.database import ViewDatabase
    from projections.findings.rule import Scope


def training_share(session: ViewDatabase, scope: Scope, params: Mapping[str, Any]) -> list[Finding]:
    """Schools whose training spending is under `training_share_min_basis_points` of their
    public operating allocation (integer comparison: training × 10,000 < budget × bp)."""
    share_bp = int(params["training_share_min_basis_points"])
    training: dict[str, int] = defaultdict(int)
    evidence: dict[str, list[int]] = defaultdict(list)
    operating = {code for code, fund in as_of.funds(session).items() if fund.category == "public_operating"}
    live = as_of.spending(session, scope)
    for class_, unit, fund_code, school_code, amount, position in zip(
            live.economic_class, live.unit, live.fund_code, live.school_code, live.amount,
            live.position, strict=True):
        if class_ == "training" and unit == "CNY" and fund_code in operating:
            training[school_code] += amount
            evidence[school_code].append(position)
    findings = []
    for code, (budget, budget_evidence) in sorted(
        operating_allocated(session, scope, "public_operating").items()
    ):
        spent = training[code]
        if budget <= 0 or spent * 10_000 >= budget * share_bp:
            continue
        findings.append(school_shortfall(
            "teacher_training_share", scope, code, short_fen=budget * share_bp // 10_000 - spent,
            measure=round(spent / budget, 4), threshold=share_bp / 10_000, measure_unit="share",
            message=(
                f"{code} spent {money_text(spent)} on teacher training out of "
                f"{money_text(budget)} of public operating funds "
                f"({spent * 100 / budget:.1f}%, under {share_bp / 100:.0f}%)"
            ),
            message_zh=(
                f"{code} 公用经费 {money_text(budget, language='zh')} 中教师培训支出 "
                f"{money_text(spent, language='zh')}"
                f"（{spent * 100 / budget:.1f}%，低于 {share_bp / 100:.0f}%）"
            ),
            evidence=[*budget_evidence, *evidence[code]]))
    return findings


RULES = (defined_rule("teacher_training_share", training_share),)
