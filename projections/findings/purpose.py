"""Spending outside a fund's purpose (挤占挪用 / 扩大开支范围).

财教〔2006〕5号: public operating funds (公用经费) may not pay staff costs, capital
construction or debt; 中小学校财务制度: earmarked funds are used only for their purpose
(专款专用). 审计署 2008 found 3.8% of operating and repair earmarks diverted, 56.7% of it to
staff pay. The ledger refuses such vouchers; imported or legacy data can still carry them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain.terms import term
from domain.units import money_text
from projections.findings import as_of
from projections.findings.rule import Finding, Rule

if TYPE_CHECKING:
    from collections.abc import Mapping

    from projections.database import ViewDatabase
    from projections.findings.rule import Scope

PAIRS_PER_QUERY_MAX = 200  # (fund, class) pairs in one query's condition


def outside_purpose(session: ViewDatabase, scope: Scope, params: Mapping[str, Any]) -> list[Finding]:
    """Expenditures whose economic class the fund does not allow, and any public operating
    spending on the classes the policy forbids whatever the fund says."""
    forbidden = set(params["forbidden_for_public_operating"])
    findings = []
    for x in _candidates(session, scope, forbidden):
        allowed = set(x["fund_classes"].split(","))
        outside = x["economic_class"] not in allowed
        banned = x["category"] == "public_operating" and x["economic_class"] in forbidden
        if not (outside or banned):
            continue
        findings.append(
            Finding(
                rule="purpose_violation",
                fiscal_year=scope.fiscal_year,
                key={"expenditure_id": x["expenditure_id"]},
                measure=1,
                threshold=0,
                message=(
                    f"{x['school_code']} charged {term(x['economic_class'], 'en')} "
                    f"({money_text(x['amount'], x['unit'])}, voucher {x['voucher']}) to "
                    f"{x['fund_code']}, a {term(x['category'], 'en')} fund"
                    + (" that does not allow it" if outside else " (forbidden for 公用经费)")
                ),
                message_zh=(
                    f"{x['school_code']} 将{term(x['economic_class'], 'zh')}"
                    f"（{money_text(x['amount'], x['unit'], 'zh')}，凭证 {x['voucher']}）列支于"
                    f"{term(x['category'], 'zh')}资金 {x['fund_code']}"
                    + ("，超出该资金的支出范围" if outside else "（公用经费不得列支）")
                ),
                measure_unit="flag",
                evidence=(x["position"],),
                amount_minor=x["amount"],
                unit=x["unit"],
            )
        )
    return findings


def _candidates(session: ViewDatabase, scope: Scope, forbidden: set[str]) -> list[dict[str, Any]]:
    """The expenditures of the (fund, economic class) pairs that break a rule: the year has a
    few dozen pairs, judged here, then only their rows are read."""
    pairs = session.rows(
        f"SELECT DISTINCT x.fund_code, x.economic_class, f.category, f.expenditure_classes "  # noqa: S608
        f"FROM {as_of.LIVE_EXPENDITURES}", as_of.live_params(scope))
    wrong = [(fund, spent) for fund, spent, category, classes in pairs
             if spent not in set(classes.split(","))
             or (category == "public_operating" and spent in forbidden)]
    rows: list[dict[str, Any]] = []
    for start in range(0, len(wrong), PAIRS_PER_QUERY_MAX):
        chunk = wrong[start:start + PAIRS_PER_QUERY_MAX]
        condition = " OR ".join(["(x.fund_code = ? AND x.economic_class = ?)"] * len(chunk))
        rows += as_of.live_expenditures(session, scope, condition,
                                        [value for pair in chunk for value in pair])
    return sorted(rows, key=lambda x: x["position"])


RULES = (
    Rule(
        name="purpose_violation",
        title="Spending outside a fund's allowed expenditure classes",
        basis="财教〔2006〕5号 (公用经费 not for 人员经费, 基本建设, 偿还债务); 中小学校财务制度 "
        "(专款专用); 审计署 2008 (3.8% diverted)",
        params={"forbidden_for_public_operating": ("salaries", "construction", "debt_repayment")},
        query=outside_purpose,
    ),
)
