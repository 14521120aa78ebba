"""Idle funds (沉淀 / 闲置资金): allocations left unspent.

Audits keep finding balances that sat for months or years while schools lacked money
(审计署昆明特派办 on Yunnan, 2016: ¥1.4bn idle, one balance for 8 years; 审计署 2020 Q4:
¥20.03m idle). Two questions: which approved allocations have seen no expenditure for
`idle_days`, and which balances are older than `balance_age_days_max` (12 months),
following carry-overs back to the original approval.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from domain.allocation import Origin, Status
from domain.units import money_text
from projections.findings import as_of
from projections.findings.rule import Finding, allocation_late, defined_rule

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from projections.database import ViewDatabase
    from projections.findings.rule import Scope


_WHAT_ZH = {"last spent on": "最近一次支出于", "approved on": "批准于", "last funded on": "最近一次追加于"}

def _days(later: str, earlier: str) -> int:
    return (date.fromisoformat(later) - date.fromisoformat(earlier)).days


def _closed_before(row: Mapping[str, Any], scope: Scope) -> bool:
    """Closed at a year-end before the day: its remainder went on as 结转 or back as 结余. On
    the closing day itself the balance still shows, as the year ended with it."""
    return row["closed_on"] is not None and row["closed_on"] < scope.day


def idle(session: ViewDatabase, scope: Scope, params: Mapping[str, Any]) -> list[Finding]:
    """Approved allocations with money left and neither an expenditure nor new money in the
    last `idle_days`: the clock starts at the last spending, or at the approval or increase
    that brought the money, whichever is later."""
    idle_days = int(params["idle_days"])
    last_spend: dict[str, tuple[str, int]] = {}
    live = as_of.spending(session, scope)
    for allocation_id, spent_on, position in zip(live.allocation_id, live.spent_on, live.position,
                                                 strict=True):
        last = last_spend.get(allocation_id)
        if last is None or spent_on >= last[0]:
            last_spend[allocation_id] = (spent_on, position)
    findings = []
    for row in as_of.allocations(session, scope):
        remaining = row["allocated"] - row["spent"]
        if (row["decision"] != "approved" or remaining <= 0 or row["unit"] != params["unit"]
                or _closed_before(row, scope)):
            continue
        since, position = last_spend.get(row["allocation_id"], (row["decided_on"], row["decided_position"]))
        what = "last spent on" if row["allocation_id"] in last_spend else "approved on"
        if row["last_funded_on"] and row["last_funded_on"] > since:
            since, what = row["last_funded_on"], "last funded on"
        quiet_days = _days(scope.day, since)
        if quiet_days <= idle_days:
            continue
        findings.append(allocation_late(
            "idle_allocation", scope, row, days=quiet_days, days_max=idle_days,
            says=(f"has {money_text(remaining, row['unit'])} unspent; {what} {since}, "
                  f"{quiet_days} days before {scope.day}"),
            says_zh=(f"尚有 {money_text(remaining, row['unit'], 'zh')} 未支出；{_WHAT_ZH[what]} "
                     f"{since}，距 {scope.day} 已 {quiet_days} 天"),
            evidence=(row["decided_position"], position), amount_minor=remaining))
    return findings


def _aged_balances(session: ViewDatabase, scope: Scope, age_max: int, *, carried_only: bool,
                   also: Callable[[Mapping[str, Any]], bool]
                   ) -> Iterator[tuple[Mapping[str, Any], int, Mapping[str, Any], int, list[int | None]]]:
    """Approved balances of the year or before, not closed before the day, that `also` keeps,
    older than `age_max` days counted from the first allocation of their chain: each with
    its remaining money, that first allocation, its age and the chain's positions."""
    rows = as_of.allocations(session, scope, all_years=True)
    source_of = {r["carried_to"]: r for r in rows if r["carried_to"]}
    for row in rows:
        remaining = row["allocated"] - row["spent"]
        if (row["decision"] != Status.APPROVED or remaining <= 0
                or row["fiscal_year"] > scope.fiscal_year or not also(row)
                or _closed_before(row, scope)):
            continue
        first, chain = _first_of_chain(row, source_of, carried_only=carried_only)
        age_days = _days(scope.day, first["decided_on"])
        if age_days > age_max:
            yield row, remaining, first, age_days, chain


def _balance_finding(rule: str, scope: Scope, row: Mapping[str, Any], remaining: int,
                     age_days: int, age_max: int, chain: list[int | None], message: str,
                     **more: Any) -> Finding:
    return Finding(
        rule=rule,
        fiscal_year=scope.fiscal_year,
        key={"allocation_id": row["allocation_id"]},
        measure=age_days,
        threshold=age_max,
        message=message,
        evidence=tuple(sorted(p for p in chain if p is not None)),
        amount_minor=remaining,
        unit=row["unit"],
        **more,
    )


def stale(session: ViewDatabase, scope: Scope, params: Mapping[str, Any]) -> list[Finding]:
    """Balances whose money was first approved more than `balance_age_days_max` ago, across
    fiscal years: a carried-over (结转) allocation is as old as the one it came from."""
    age_max = int(params["balance_age_days_max"])
    return [
        _balance_finding(
            "stale_balance", scope, row, remaining, age_days, age_max, chain,
            f"{money_text(remaining, row['unit'])} of {row['fund_code']} at "
            f"{row['school_code']} has waited since {origin['decided_on']} ({age_days} days)",
            message_zh=(
                f"{row['school_code']} 的 {row['fund_code']} 尚有 "
                f"{money_text(remaining, row['unit'], 'zh')} 自 {origin['decided_on']} "
                f"起未使用（{age_days} 天）"
            ),
            measure_unit="days",
        )
        for row, remaining, origin, age_days, chain in _aged_balances(
            session, scope, age_max, carried_only=False, also=lambda row: True)
    ]


def idle_carry_over(session: ViewDatabase, scope: Scope,
                    params: Mapping[str, Any]) -> list[Finding]:
    """Carried-over money (结转) still unspent more than `carry_over_age_days_max` after it
    was first carried: 结转 is for work under way, and local rules recover what stays unused
    for two years (the ledger does so at the second year-end)."""
    age_max = int(params["carry_over_age_days_max"])
    return [
        _balance_finding(
            "idle_carry_over", scope, row, remaining, age_days, age_max, chain,
            f"{money_text(remaining, row['unit'])} of {row['fund_code']} at "
            f"{row['school_code']} was first carried over on {first['decided_on']} and "
            f"is still unspent ({age_days} days)",
        )
        for row, remaining, first, age_days, chain in _aged_balances(
            session, scope, age_max, carried_only=True,
            also=lambda row: row["origin"] == Origin.CARRY_OVER and row["unit"] == params["unit"])
    ]


RULES = (
    defined_rule("idle_allocation", idle),
    defined_rule("stale_balance", stale),
    defined_rule("idle_carry_over", idle_carry_over),
)


def _first_of_chain(row: Mapping[str, Any], source_of: Mapping[str, Mapping[str, Any]], *,
                    carried_only: bool) -> tuple[Mapping[str, Any], list[int | None]]:
    """Follows an allocation back through the allocations it was transferred or carried from
    (only carried ones when `carried_only`): the money's age counts from the first of them.
    Answers that first allocation and the decision positions along the way (the evidence)."""
    first, chain = row, [row["decided_position"]]
    while first["allocation_id"] in source_of:
        source = source_of[first["allocation_id"]]
        if carried_only and source["origin"] != Origin.CARRY_OVER:
            break
        first = source
        chain.append(first["decided_position"])
    return first, chain
