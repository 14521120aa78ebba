"""The audit-facts view's handlers: the rows each of the domain's events adds or changes,
queued as one page's writes (projections/findings/facts.py is the view and its tables)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from domain.allocation import Allocation, Origin, Status
from domain.expenditure import Expenditure
from domain.fund import Fund
from domain.school import School

if TYPE_CHECKING:
    from projections.database import ViewDatabase
    from projections.page_view import PageEvent


class _PageWrites:
    """A page's writes, sent as one `executemany` per statement instead of a round trip per
    event (which made this view most of a rebuild's time on PostgreSQL).

    Every statement's rows run in event order; the INSERTs run before the UPDATEs, so a row is
    always there before it is updated, even when the UPDATE statement first appeared earlier
    in the page for another row (a rejection, then a proposal and its approval: ordering
    statements by first appearance lost that approval). The views only insert new rows, and the
    UPDATEs of one row set different columns (a decision, a closure, a reversal), so this order
    yields the same rows as event order. A read first sends everything queued, so it sees the
    page so far."""

    def __init__(self, db: ViewDatabase) -> None:
        self.db = db
        self._queued: dict[str, list[tuple[Any, ...]]] = {}
        # What this page itself wrote and later events ask for (a school's code, a proposal's
        # amount): answered here, so a read does not cut the page's batches short.
        self.written: dict[tuple[str, str], Any] = {}
        # Each allocation's entries of the page folded into one change of its running totals.
        self._totals: dict[str, _TotalsChange] = {}

    def read_ahead(self, page: Sequence[PageEvent]) -> None:
        """Reads, before the page writes anything, what its events will ask of earlier pages'
        rows (a school's or fund's code, a proposal's amount): a read in the middle of the page
        would send the page's batches so far and start new ones, once per approval, which was
        most of this view's time in a rebuild. What the page itself writes, it remembers."""
        wanted: dict[str, set[str]] = {kind: set() for kind in _READ_AHEAD}
        for item in page:
            event = item.event
            if isinstance(event, Allocation.Approved):
                wanted["allocation_amount"].add(str(event.originator_id))
            elif isinstance(event, School.Event) and not isinstance(event, School.Registered):
                wanted["school_code"].add(str(event.originator_id))
            elif isinstance(event, _FUND_RECEIPTS):
                wanted["fund_code"].add(str(event.originator_id))
        for kind, ids in wanted.items():
            for row in self.db.dicts_in(_READ_AHEAD[kind], ids):
                key, value = row.values()
                self.written[kind, key] = value

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        self._queued.setdefault(statement, []).append(tuple(params))

    def rows(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.flush()
        return self.db.rows(statement, params)

    def add_to_totals(self, allocation_id: str, kind: str, delta: int, day: str, position: int) -> None:
        change = self._totals.setdefault(allocation_id, _TotalsChange())
        change.add(kind, delta, day, position)

    def flush(self) -> None:
        for allocation_id, change in self._totals.items():
            self.execute(_ADD_TO_TOTALS, (*change.values(), allocation_id))
        self._totals.clear()
        inserts_first = sorted(self._queued.items(), key=lambda item: not item[0].startswith("INSERT"))
        for statement, rows in inserts_first:
            self.db.executemany(statement, rows)
        self._queued.clear()


# What read_ahead reads, by the key `written` keeps it under: (id, value) rows.
_READ_AHEAD = {
    "allocation_amount": "SELECT allocation_id, amount FROM findings_allocations "
                         "WHERE allocation_id IN ({marks})",
    "school_code": "SELECT school_id, school_code FROM findings_schools WHERE school_id IN ({marks})",
    "fund_code": "SELECT fund_id, fund_code FROM findings_funds WHERE fund_id IN ({marks})",
}
_FUND_RECEIPTS = (Fund.AppropriationAdjusted, Fund.CarriedIn, Fund.CarryOverReceived)


def _later(column: str) -> str:
    return f"{column} = CASE WHEN ? > COALESCE({column}, '') THEN ? ELSE {column} END"


# Sums add and latest dates and positions only move forward, so the page's changes may be
# applied in any order. A NULL date (none in the page) leaves the column as it was.
_ADD_TO_TOTALS = (
    "UPDATE findings_allocations SET allocated_total = allocated_total + ?, "  # noqa: S608  (no user text)
    f"spent_total = spent_total + ?, {_later('last_funded_on')}, {_later('closed_on')}, "
    f"{_later('last_entry_on')}, last_entry_position = CASE WHEN ? > "
    "COALESCE(last_entry_position, 0) THEN ? ELSE last_entry_position END WHERE allocation_id = ?"
)


class _TotalsChange:
    """One allocation's entries of a page, as a change of its running totals."""

    def __init__(self) -> None:
        self.allocated = self.spent = self.last_position = 0
        self.last_funded_on: str | None = None
        self.closed_on: str | None = None
        self.last_entry_on = ""

    def add(self, kind: str, delta: int, day: str, position: int) -> None:
        if kind == "allocated":
            self.allocated += delta
            if delta > 0:
                self.last_funded_on = max(self.last_funded_on or "", day)
        elif kind == "spent":
            self.spent += delta
        else:  # closed
            self.closed_on = max(self.closed_on or "", day)
        self.last_entry_on = max(self.last_entry_on, day)
        self.last_position = max(self.last_position, position)

    def values(self) -> tuple[Any, ...]:
        return (self.allocated, self.spent, self.last_funded_on, self.last_funded_on, self.closed_on,
                self.closed_on, self.last_entry_on, self.last_entry_on, self.last_position,
                self.last_position)


def _day(event: Any) -> str:
    return event.stamp.effective_date.isoformat()


def _school_registered(s: _PageWrites, e: Any, position: int) -> None:
    s.execute(
        "INSERT INTO findings_schools VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        (e.code, str(e.originator_id), e.name, e.district, e.level, int(e.poverty_area), _day(e), position),
    )
    s.written["school_code", str(e.originator_id)] = e.code
    _history(s, e.code, "locale", e.locale, None, _day(e), position)
    _history(s, e.code, "students", None, e.students, _day(e), position)


def _history(
    s: _PageWrites, code: str, kind: str, text: str | None, number: int | None, day: str, position: int
) -> None:
    s.execute(
        "INSERT INTO findings_school_history VALUES (?, ?, ?, ?, ?, ?)",
        (code, kind, text, number, day, position),
    )


def _school_code(s: _PageWrites, e: Any) -> str:
    if (known := s.written.get(("school_code", str(e.originator_id)))) is not None:
        return str(known)
    ((code,),) = s.rows(
        "SELECT school_code FROM findings_schools WHERE school_id = ?", (str(e.originator_id),)
    )
    return str(code)


def _school_history(field: str) -> Callable[[_PageWrites, Any, int], None]:
    """A school's new locale or enrolment (`field`): a dated row of its history."""

    def handle(s: _PageWrites, e: Any, position: int) -> None:
        value = getattr(e, field)
        text, number = (value, None) if isinstance(value, str) else (None, value)
        _history(s, _school_code(s, e), field, text, number, _day(e), position)

    return handle


def _school_closed(s: _PageWrites, e: Any, position: int) -> None:
    s.execute(
        "UPDATE findings_schools SET closed_on = ? WHERE school_code = ?", (_day(e), _school_code(s, e))
    )


def _fund_opened(s: _PageWrites, e: Any, position: int) -> None:
    s.execute(
        "INSERT INTO findings_funds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            e.code,
            str(e.originator_id),
            e.fiscal_year,
            e.unit,
            e.source,
            e.category,
            e.earmark,
            ",".join(e.expenditure_classes),
            _day(e),
            position,
            e.issuing_level,
        ),
    )
    s.written["fund_code", str(e.originator_id)] = e.code
    # Pass-through deadlines run from the day the money was received (预算法 art. 52).
    received = e.received_on.isoformat() if e.received_on else _day(e)
    _receipt(s, e.code, e.amount, "opened", received, position)


def _receipt(s: _PageWrites, code: str, delta: int, kind: str, day: str, position: int) -> None:
    s.execute("INSERT INTO findings_fund_receipts VALUES (?, ?, ?, ?, ?)", (code, delta, kind, day, position))


def _fund_code(s: _PageWrites, e: Any) -> str:
    if (known := s.written.get(("fund_code", str(e.originator_id)))) is not None:
        return str(known)
    ((code,),) = s.rows("SELECT fund_code FROM findings_funds WHERE fund_id = ?", (str(e.originator_id),))
    return str(code)


def _appropriation_adjusted(s: _PageWrites, e: Any, position: int) -> None:
    _receipt(s, _fund_code(s, e), e.delta, "adjusted", _day(e), position)


def _carried_in(s: _PageWrites, e: Any, position: int) -> None:
    _receipt(s, _fund_code(s, e), e.amount, "carried_in", _day(e), position)


def _allocation_opened(s: _PageWrites, e: Any, position: int) -> None:
    approved = e.origin != Origin.PROPOSAL
    s.written["allocation_amount", str(e.originator_id)] = e.amount
    s.execute(
        "INSERT INTO findings_allocations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, "
        "0, 0, NULL, NULL, NULL, NULL)",
        (
            str(e.originator_id),
            e.fund_code,
            e.school_code,
            e.fiscal_year,
            e.unit,
            e.category,
            ",".join(e.expenditure_classes),
            e.origin,
            e.amount,
            e.stamp.actor_id,
            _day(e),
            position,
            Status.APPROVED.value if approved else None,
            e.stamp.actor_id if approved else None,
            e.stamp.actor_role if approved else None,
            _day(e) if approved else None,
            position if approved else None,
        ),
    )
    if approved:
        _entry(s, e, "allocated", e.amount, position)


def _entry(s: _PageWrites, e: Any, kind: str, delta: int, position: int) -> None:
    if delta != 0:
        s.execute(
            "INSERT INTO findings_allocation_entries VALUES (?, ?, ?, ?, ?)",
            (str(e.originator_id), kind, delta, _day(e), position),
        )
        s.add_to_totals(str(e.originator_id), kind, delta, _day(e), position)


def _decided(decision: str) -> Callable[[_PageWrites, Any, int], None]:
    def handle(s: _PageWrites, e: Any, position: int) -> None:
        s.execute(
            "UPDATE findings_allocations SET decision = ?, decided_by = ?, decided_role = ?, "
            "decided_on = ?, decided_position = ? WHERE allocation_id = ?",
            (decision, e.stamp.actor_id, e.stamp.actor_role, _day(e), position, str(e.originator_id)),
        )
        if decision == Status.APPROVED:
            amount = s.written.get(("allocation_amount", str(e.originator_id)))
            if amount is None:
                ((amount,),) = s.rows(
                    "SELECT amount FROM findings_allocations WHERE allocation_id = ?",
                    (str(e.originator_id),),
                )
            _entry(s, e, "allocated", amount, position)

    return handle


def _allocated_by(field: str, sign: int) -> Callable[[_PageWrites, Any, int], None]:
    def handle(s: _PageWrites, e: Any, position: int) -> None:
        _entry(s, e, "allocated", sign * getattr(e, field), position)

    return handle


def _spent_by(sign: int) -> Callable[[_PageWrites, Any, int], None]:
    def handle(s: _PageWrites, e: Any, position: int) -> None:
        _entry(s, e, "spent", sign * e.amount, position)

    return handle


def _year_closed(s: _PageWrites, e: Any, position: int) -> None:
    """The first release's close: its entry stays as that release wrote it (views of old
    stores are not rewritten); new closes are closing entries (_carried_forward)."""
    _entry(s, e, "allocated", -e.remainder, position)
    _note_carried_to(s, e)


def _carried_forward(s: _PageWrites, e: Any, position: int) -> None:
    # A closing entry of its own kind: the rules see what was allocated in the year (the
    # benchmark, idle balances at year-end), and that the allocation closed on that day.
    _entry(s, e, "closed", -e.remainder, position)
    _note_carried_to(s, e)


def _note_carried_to(s: _PageWrites, e: Any) -> None:
    """A close that carries the remainder over names the allocation it went to."""
    if e.carry_to_allocation_id is not None:
        s.execute(
            "UPDATE findings_allocations SET carried_to = ? WHERE allocation_id = ?",
            (str(e.carry_to_allocation_id), str(e.originator_id)),
        )


def _surplus_recovered(s: _PageWrites, e: Any, position: int) -> None:
    _entry(s, e, "closed", -e.remainder, position)


def _expenditure_recorded(s: _PageWrites, e: Any, position: int) -> None:
    s.execute(
        "INSERT INTO findings_expenditures VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
        (
            str(e.originator_id),
            str(e.allocation_id),
            e.fund_code,
            e.school_code,
            e.fiscal_year,
            e.unit,
            e.amount,
            e.payee,
            e.voucher,
            e.spent_on.isoformat(),
            e.economic_class,
            e.stamp.actor_id,
            position,
        ),
    )


def _expenditure_reversed(s: _PageWrites, e: Any, position: int) -> None:
    s.execute(
        "UPDATE findings_expenditures SET reversed_on = ?, reversed_position = ? WHERE expenditure_id = ?",
        (_day(e), position, str(e.originator_id)),
    )


def _below_standard_accepted(s: _PageWrites, e: Any, position: int) -> None:
    s.execute("INSERT INTO findings_below_standard VALUES (?, ?, ?, ?, ?)",
              (str(e.originator_id), e.standard_amount, e.stamp.reason, _day(e), position))


HANDLERS: dict[type, Callable[[_PageWrites, Any, int], None]] = {
    School.Registered: _school_registered,
    School.Reclassified: _school_history("locale"),
    School.EnrolmentReported: _school_history("students"),
    School.Closed: _school_closed,
    Fund.Opened: _fund_opened,
    Fund.AppropriationAdjusted: _appropriation_adjusted,
    Fund.CarriedIn: _carried_in,
    Fund.CarryOverReceived: _carried_in,
    Allocation.Proposed: _allocation_opened,
    Allocation.OpenedByTransfer: _allocation_opened,
    Allocation.OpenedByCarryOver: _allocation_opened,
    Allocation.CarriedIn: _allocation_opened,
    Allocation.Approved: _decided(Status.APPROVED.value),
    Allocation.Rejected: _decided(Status.REJECTED.value),
    Allocation.Adjusted: _allocated_by("delta", 1),
    Allocation.Cancelled: _allocated_by("released", -1),
    Allocation.TransferredOut: _allocated_by("amount", -1),
    Allocation.TransferredIn: _allocated_by("amount", 1),
    Allocation.YearClosed: _year_closed,
    Allocation.CarriedForward: _carried_forward,
    Allocation.SurplusRecovered: _surplus_recovered,
    Allocation.Spent: _spent_by(1),
    Allocation.SpendingReversed: _spent_by(-1),
    Allocation.BelowStandardAccepted: _below_standard_accepted,
    Expenditure.Recorded: _expenditure_recorded,
    Expenditure.Reversed: _expenditure_reversed,
}
