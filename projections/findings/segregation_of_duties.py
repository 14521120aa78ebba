"""Segregation of duties (不相容岗位分离): nobody decides on their own proposal.

行政事业单位内部控制规范(试行) requires checks and balances (制衡性) between authorising and
executing. The ledger refuses maker = checker, so such events can only come from imported
or legacy data, or from a store altered outside the ledger: exactly what an auditor wants
listed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain.allocation import Origin
from projections.findings import as_of
from projections.findings.rule import Finding, defined_rule

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from projections.database import ViewDatabase
    from projections.findings.rule import Scope


_DECISION_ZH = {"approved": "批准", "rejected": "驳回"}

def _decided_proposals(session: ViewDatabase, scope: Scope) -> Iterator[dict[str, Any]]:
    """The year's proposals that were approved or rejected."""
    return (row for row in as_of.allocations(session, scope)
            if row["origin"] == Origin.PROPOSAL and row["decision"] is not None)


def _decision_finding(rule: str, scope: Scope, row: dict[str, Any], message: str,
                      message_zh: str) -> Finding:
    """A decision on a proposal, flagged, with the proposal and the decision as evidence."""
    return Finding(
        rule=rule,
        fiscal_year=scope.fiscal_year,
        key={"allocation_id": row["allocation_id"]},
        measure=1,
        threshold=0,
        message=message,
        message_zh=message_zh,
        measure_unit="flag",
        evidence=(row["proposed_position"], row["decided_position"]),
        amount_minor=row["amount"],
        unit=row["unit"],
    )


def maker_is_checker(session: ViewDatabase, scope: Scope, params: Mapping[str, Any]) -> list[Finding]:
    """Allocations approved or rejected by the person who proposed them."""
    return [
        _decision_finding(
            "maker_checker", scope, row,
            f"{row['decided_by']} proposed the allocation of {row['fund_code']} to "
            f"{row['school_code']} on {row['proposed_on']} and {row['decision']} it "
            f"on {row['decided_on']}",
            f"{row['decided_by']} 于 {row['proposed_on']} 提出 {row['fund_code']} 下达给 "
            f"{row['school_code']} 的拨款，又于 {row['decided_on']} 自行"
            f"{_DECISION_ZH.get(row['decision'], row['decision'])}",
        )
        for row in _decided_proposals(session, scope)
        if row["decided_by"] == row["proposed_by"]
    ]


def decided_without_role(session: ViewDatabase, scope: Scope, params: Mapping[str, Any]) -> list[Finding]:
    """Proposals decided under a role other than the approver's."""
    return [
        _decision_finding(
            "approval_role", scope, row,
            f"{row['decided_by']} {row['decision']} the allocation of {row['fund_code']} "
            f"to {row['school_code']} acting as {row['decided_role']}",
            f"{row['decided_by']} 以 {row['decided_role']} 身份"
            f"{_DECISION_ZH.get(row['decision'], row['decision'])}了 {row['fund_code']} 下达给 "
            f"{row['school_code']} 的拨款",
        )
        for row in _decided_proposals(session, scope)
        if row["decided_role"] != params["approver_role"]
    ]


RULES = (
    defined_rule("maker_checker", maker_is_checker),
    defined_rule("approval_role", decided_without_role),
)
