"""Month-end close (月结): once a month is closed, nothing is dated in it any more.

An approver asks for a month to be closed for the whole bureau and a second approver applies
it (a two-person change, kind `period_close`, domain/change.py). From then on every command
whose events carry an effective date in that month is refused (409 `period_closed`): spends,
reversals, allocations and their approvals, adjustments, transfers, cancellations, fund
changes, year-end closes, enrolment and stock records — the check looks at the business date
of every event a decided command would save (`PeriodCommands.check_decision`), so no command
is forgotten and a new one is covered without a line here.

A month is closed only once it has ended (bureau time), only once, and not while a pending
two-person change would date an event in it (the refusal lists them: approve or reject them
first). Corrections of a closed month are made in an open month, as the prior-year
adjustment does for closed years (reference/domain.md, period close).

The one `AccountingPeriods` aggregate holds the closed months. A batch consults it once (or as
the batch itself changed it): on PostgreSQL from the process's memory, the save checking under
the table lock that it has not changed since (`CommandApplication.consult`), else read from the
store; a command alone trusts a read at most `PERIODS_FRESH_SECONDS` old, or this process's own
latest close, whichever is newer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, event

from domain.actors import Actor, Role, Stamp
from domain.change import ChangeContext, PendingChange, change_kind
from domain.errors import (
    InvalidInput,
    LedgerError,
    PendingChangesInPeriod,
    PeriodAlreadyClosed,
    PeriodClosed,
    PeriodNotEnded,
)
from domain.event_reading import read_aggregates
from domain.limits import FISCAL_YEAR_MAX, FISCAL_YEAR_MIN
from domain.natural_keys import natural_id
from domain.rules import reason_text
from domain.unit_of_work import Decision, Outcome, current_batch, working_copy, working_set

PERIOD_CLOSE = "period_close"  # the change kind's stored name
# How long a process outside a batch trusts its last read of the closed months: a close
# approved by another process holds here within this time (within this process at once).
PERIODS_FRESH_SECONDS = 1.0
CHANGE_PROPOSED_TOPIC = "domain.change:PendingChange.Proposed"
_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)


def check_month(text: Any) -> str:
    """A calendar month as 'YYYY-MM' (ASCII digits, a month 01–12 of a plausible year)."""
    found = _MONTH.fullmatch(text) if isinstance(text, str) else None
    if found is None or not 1 <= int(found[2]) <= 12 \
            or not FISCAL_YEAR_MIN <= int(found[1]) <= FISCAL_YEAR_MAX:
        msg = f"a month is written YYYY-MM (such as 2025-03), not {text!r}"
        raise InvalidInput(msg)
    return text


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def last_day(month: str) -> date:
    year, number = int(month[:4]), int(month[5:])
    first_of_next = date(year + number // 12, number % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


def effective_dates(aggregates: Iterable[Aggregate]) -> set[date]:
    """The business dates of the events these aggregates would save (each event's stamp)."""
    days = set()
    for aggregate in aggregates:
        for pending in aggregate.pending_events:
            stamp = getattr(pending, "stamp", None)
            if isinstance(stamp, Stamp):
                days.add(stamp.effective_date)
    return days


@dataclass(frozen=True)
class ClosedMonth:
    month: str
    closed_by: str  # who asked for the close
    approved_by: str | None  # who applied it
    closed_on: date
    reason: str


class AccountingPeriods(Aggregate):
    """The bureau's closed months."""

    ID = natural_id("accounting-periods")

    @staticmethod
    def create_id(**_: object) -> UUID:
        return AccountingPeriods.ID

    @event("Opened")
    def __init__(self) -> None:
        self.closed: dict[str, ClosedMonth] = {}

    def check_not_closed(self, month: str) -> None:
        if month in self.closed:
            done = self.closed[month]
            msg = f"{month} was closed on {done.closed_on} (asked by {done.closed_by})"
            raise PeriodAlreadyClosed(msg)

    def close(self, month: str, approved_by: str | None, stamp: Stamp) -> None:
        self.check_not_closed(month)
        self._close(month=month, approved_by=approved_by, stamp=stamp)

    @event("MonthClosed")
    def _close(self, month: str, approved_by: str | None, stamp: Stamp) -> None:
        self.closed[month] = ClosedMonth(month, stamp.actor_id, approved_by,
                                         stamp.effective_date, stamp.reason)


class PeriodCommands:
    """Month-end close of `FundLedger` (a mixin over its machinery), and the check every
    decided command passes."""

    propose_change: Callable[..., Outcome]
    today: Callable[[], date]
    recorder: Any
    _read: Callable[..., Any]
    _recall: Callable[[UUID], Any]
    consult: Callable[..., Any]
    _originators: Callable[[str], list[UUID]]

    def close_period(self, actor: Actor, month: str, *, reason: str = "",
                     idempotency_key: str | None = None) -> Outcome:
        """Asks for a month to be closed for the bureau: a two-person change (approvers)."""
        role = actor.acting_as(Role.APPROVER)
        params = {"month": check_month(month),
                  "reason": reason_text(reason or "", required=False)}
        return self.propose_change(actor, role, PERIOD_CLOSE, params, idempotency_key)

    def apply_close_period(self, context: ChangeContext, params: dict[str, Any]) -> Decision:
        month = params["month"]
        today = self.today()
        if last_day(month) >= today:
            msg = f"{month} ends on {last_day(month)}; it can be closed from the day after"
            raise PeriodNotEnded(msg)
        stored = self._stored_periods()
        # A copy: the stored one may be what other commands consult (a batch's, the cache).
        periods = working_copy(stored) if stored is not None else AccountingPeriods()
        periods.check_not_closed(month)
        dated = self._pending_changes_dated_in(month, context.change_id)
        if dated:
            names = ", ".join(f"{d['change']} ({d['kind']})" for d in dated)
            msg = (f"{len(dated)} pending change(s) are dated in {month}; approve or reject "
                   f"them first: {names}")
            raise PendingChangesInPeriod(msg, dated)
        periods.close(month, context.approved_by, context.stamp(today, params["reason"]))
        return Decision([periods])

    def closed_periods(self) -> list[ClosedMonth]:
        """The closed months, oldest first."""
        periods = self._stored_periods()
        return sorted(periods.closed.values(), key=lambda c: c.month) if periods else []

    def check_decision(self, changed: Iterable[Aggregate]) -> None:
        """No event of a decided command is dated in a closed month."""
        changed = list(changed)
        if not any(a.pending_events for a in changed):
            return
        periods = self._stored_periods()
        if periods is None or not periods.closed:
            return
        for day in sorted(effective_dates(changed)):
            if month_of(day) in periods.closed:
                msg = (f"{month_of(day)} is closed: nothing can be dated {day} any more; "
                       "record the correction in an open month")
                raise PeriodClosed(msg, f"{month_of(day)} 已结账，业务日期不能再为 {day}；"
                                        "请在未结账的月份登记更正")

    # ------------------------------------------------------------------ reading

    def _stored_periods(self) -> AccountingPeriods | None:
        batch = current_batch.get()
        if batch is None:
            return self._periods_recently_read()
        held = batch.aggregates.get(AccountingPeriods.ID)
        if held is not None:
            return held  # type: ignore[return-value]
        return self.consult(AccountingPeriods.ID, self._periods_from_store)  # type: ignore[return-value]

    def _forget_recent(self) -> None:
        """A save refused for stale memory may be a close made elsewhere: the commands then
        taken one by one read the closed months afresh."""
        super()._forget_recent()  # type: ignore[misc]
        self._periods_read = None

    def _periods_recently_read(self) -> AccountingPeriods | None:
        """Outside a batch, the closed months as read from the store at most
        PERIODS_FRESH_SECONDS ago (a command alone would otherwise pay one more round trip),
        or as this process last closed one, whichever is newer."""
        now = time.monotonic()
        cached: tuple[float, AccountingPeriods | None] | None = getattr(
            self, "_periods_read", None)
        if cached is None or now - cached[0] >= PERIODS_FRESH_SECONDS:
            cached = (now, self._periods_from_store())
            self._periods_read = cached
        periods = cached[1]
        own = self._recall(AccountingPeriods.ID)
        if own is not None and (periods is None or own.version > periods.version):
            return own  # type: ignore[no-any-return]
        return periods

    def _periods_from_store(self) -> AccountingPeriods | None:
        try:
            return self._read(AccountingPeriods.ID, AccountingPeriods)  # type: ignore[no-any-return]
        except AggregateNotFoundError:
            return None

    def _pending_changes_dated_in(self, month: str, this_change: UUID) -> list[dict[str, str]]:
        """Pending changes (other than this close) whose events would be dated in `month`:
        each is tried on the books as they are, as its approval would apply it. Changes are
        few and closes rare, so every change ever proposed is read (in a few queries)."""
        changes = read_aggregates(self, self._originators(CHANGE_PROPOSED_TOPIC))
        found = []
        for change in changes.values():
            if (not isinstance(change, PendingChange) or not change.is_pending
                    or change.id == this_change or change.kind == PERIOD_CLOSE):
                continue
            if any(month_of(day) == month for day in self._dates_of(change)):
                found.append({"change": str(change.id), "kind": change.kind,
                              "maker": change.maker})
        return found

    def _dates_of(self, change: PendingChange) -> set[date]:
        role = Role(change.maker_role)
        context = ChangeContext(change.id, Actor(change.maker, frozenset({role})), role, None)
        # Each on its own copies (inside a batch), so one tried change never sees another's.
        token = working_set.set({} if working_set.get() is not None else None)
        try:
            tried = change_kind(change.kind).apply(self, context, change.params)
        except LedgerError:
            # It cannot apply as the books are: its asked-for date, else the day it was made.
            return {change.params.get("effective_date") or change.proposed_on}
        finally:
            working_set.reset(token)
        return effective_dates(tried.changed)
