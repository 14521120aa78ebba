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
from projections.findings.rule import Finding, defined_rule

if TYPE_CHECKING:
    from collections.abc import Mapping

    from projections.database import ViewDatabase
    from projections.findings.rule import Scope


def outside_purpose(session: ViewDatabase, scope: Scope, params: Mapping[str, Any]) -> list[Finding]:
    """Expenditures whose economic class the fund does not allow, and any public operating
    spending on the classes the policy forbids whatever the fund says."""
    forbidden = set(params["forbidden_for_public_operating"])
    findings = []
    funds = as_of.funds(session)
    live = as_of.spending(session, scope)
    for index, (fund_code, class_) in enumerate(zip(live.fund_code, live.economic_class, strict=True)):
        fund = funds.get(fund_code)
        if fund is None:  # never in a store the ledger wrote: an expenditure's fund opened first
            continue
        outside = class_ not in fund.classes
        banned = fund.category == "public_operating" and class_ in forbidden
        if not (outside or banned):
            continue
        x = live.row(index)
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
                    f"{x['fund_code']}, a {term(fund.category, 'en')} fund"
                    + (" that does not allow it" if outside else " (forbidden for 公用经费)")
                ),
                message_zh=(
                    f"{x['school_code']} 将{term(x['economic_class'], 'zh')}"
                    f"（{money_text(x['amount'], x['unit'], 'zh')}，凭证 {x['voucher']}）列支于"
                    f"{term(fund.category, 'zh')}资金 {x['fund_code']}"
                    + ("，超出该资金的支出范围" if outside else "（公用经费不得列支）")
                ),
                measure_unit="flag",
                evidence=(x["position"],),
                amount_minor=x["amount"],
                unit=x["unit"],
            )
        )
    return findings


RULES = (defined_rule("purpose_violation", outside_purpose),)
