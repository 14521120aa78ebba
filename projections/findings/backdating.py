"""Backdating (补记/倒签): book entries recorded long after the business date they carry.

An entry's effective date may lie anywhere in an open month; one recorded weeks later
escapes the month's review (and, once months are closed, would have been refused: see
docs/year-end.md, month-end close). Each entry recorded more than `days_max` days after its
effective date is a finding naming who recorded it, when, and how late. The recording time
is the event's own timestamp (the library's, UTC), read as the bureau's calendar day.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from domain.terms import event_name
from domain.units import money_text
from projections.findings.rule import Finding, defined_rule
from projections.journal import JOURNAL_TABLE, late_entries

if TYPE_CHECKING:
    from collections.abc import Mapping

    from projections.database import ViewDatabase
    from projections.findings.rule import Scope

# The entries a person books with a date of their choosing. Year-end closing entries (dated
# 31 December, booked in January) and the opening of carried money are dated by the ledger.
BOOK_ENTRIES = frozenset({"Expenditure.Recorded", "Expenditure.Reversed", "Allocation.Proposed",
                "Allocation.Approved", "Allocation.Rejected", "Allocation.Adjusted",
                "Allocation.Cancelled", "Allocation.TransferredOut",
                "Fund.AppropriationAdjusted"})


def backdated_entries(session: ViewDatabase, scope: Scope,
                      params: Mapping[str, Any]) -> list[Finding]:
    """Entries of the year, dated by the scope's day, recorded more than `days_max` days
    after their effective date."""
    days_max = int(params["days_max"])
    db = getattr(session, "db", session)
    first_day = date(scope.fiscal_year, 1, 1)
    if days_max < 0:  # entries recorded by their date too: only the journal knows them all
        rows = late_entries(db, sorted(BOOK_ENTRIES), first_day, scope.as_of, scope.position_max,
                            days_max)
    else:
        # The audit facts keep the entries recorded a day or more late (facts.late_entries).
        rows = db.dicts(
            f"SELECT j.position, j.recorded_at, j.actor, j.actor_role, j.entity_type, "  # noqa: S608
            f"j.entity_id, j.event, j.amount, j.unit, j.effective_date, l.days_late "
            f"FROM findings_late_entries l JOIN {JOURNAL_TABLE} j ON j.position = l.position "
            f"WHERE l.effective_date >= ? AND l.effective_date <= ? AND l.position <= ? "
            f"AND l.days_late > ? ORDER BY l.position",
            (first_day.isoformat(), scope.day, scope.position_max, days_max))
    return [_finding(row, scope, days_max) for row in rows]


def _finding(row: dict[str, Any], scope: Scope, days_max: int) -> Finding:
    days = int(row["days_late"])
    recorded_on = str(row["recorded_at"])[:10]
    amount, unit = row["amount"], row["unit"]
    money_en = f" of {money_text(abs(amount), unit, 'en')}" if amount is not None and unit else ""
    money_zh = f"，金额 {money_text(abs(amount), unit, 'zh')}" if amount is not None and unit else ""
    who = row["actor"] or "?"
    return Finding(
        rule="backdated_entry",
        fiscal_year=scope.fiscal_year,
        key={"entity_id": row["entity_id"], "event": row["event"]},
        measure=days,
        threshold=days_max,
        message=(f"{who} recorded “{event_name(row['event'], 'en')}”{money_en} dated "
                 f"{row['effective_date']} on {recorded_on} UTC, {days} days later"),
        message_zh=(f"{who} 于 {recorded_on}（UTC）补记{event_name(row['event'], 'zh')}"
                    f"{money_zh}，业务日期 {row['effective_date']}，晚 {days} 天"),
        measure_unit="days",
        evidence=(int(row["position"]),),
        amount_minor=abs(amount) if amount is not None and unit else None,
        unit=unit if amount is not None else None,
    )


RULES = (defined_rule("backdated_entry", backdated_entries),)
