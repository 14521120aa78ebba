"""The books' handlers: what each of the domain's events does to the rows of one page
(projections/books.py reads the rows a page touches and writes back what changed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from domain.allocation import Allocation, Origin, Status
from domain.expenditure import Expenditure
from domain.fund import Fund
from domain.school import School
from projections.fund_codes import shares_text

Row = dict[str, Any]


@dataclass
class _Page:
    """The rows one page touches, as dicts, and what it adds."""

    schools: dict[str, Row] = field(default_factory=dict)  # by school id
    funds: dict[str, Row] = field(default_factory=dict)  # by fund code
    fund_codes: dict[str, str] = field(default_factory=dict)  # fund id -> code
    allocations: dict[str, Row] = field(default_factory=dict)
    expenditures: dict[str, Row] = field(default_factory=dict)
    dirty_schools: set[str] = field(default_factory=set)
    dirty_funds: set[str] = field(default_factory=set)
    dirty_allocations: set[str] = field(default_factory=set)
    dirty_expenditures: set[str] = field(default_factory=set)
    history: list[tuple[Any, ...]] = field(default_factory=list)
    entries: list[tuple[Any, ...]] = field(default_factory=list)
    # (school, year, fund) -> [unit, allocated, spent, allocations, expenditures, position]
    balances: dict[tuple[str, int, str], list[Any]] = field(default_factory=dict)


def _day(event: Any) -> str:
    return event.stamp.effective_date.isoformat()


def _touch(row: Row, event: Any, position: int) -> None:
    row["version"] = event.originator_version
    row["position"] = position


def _school(state: _Page, event: Any, position: int) -> Row:
    row = state.schools[str(event.originator_id)]
    _touch(row, event, position)
    state.dirty_schools.add(str(event.originator_id))
    return row


def _school_registered(state: _Page, e: Any, position: int) -> None:
    day = _day(e)
    school_id = str(e.originator_id)
    state.schools[school_id] = {
        "school_code": e.code, "school_id": school_id, "name": e.name, "district": e.district,
        "level": e.level, "locale": e.locale, "locale_since": day,
        "poverty_area": int(bool(e.poverty_area)), "students": e.students,
        "students_since": day, "status": "open", "registered_on": day, "closed_on": None,
        "version": e.originator_version, "position": position,
    }
    state.dirty_schools.add(school_id)
    state.history.append((e.code, "locale", day, position, e.locale, None))
    state.history.append((e.code, "students", day, position, None, e.students))


def _school_fact(field: str) -> Callable[[_Page, Any, int], None]:
    """A school's locale or enrolment (`field`) as of the event's effective date: a row of its
    history. The current value is the one with the latest effective date (a back-dated change
    is history, not the present); on the same day the later event wins."""

    def handle(state: _Page, e: Any, position: int) -> None:
        row = _school(state, e, position)
        day, value = _day(e), getattr(e, field)
        if day >= row[f"{field}_since"]:
            row[field], row[f"{field}_since"] = value, day
        text, number = (value, None) if isinstance(value, str) else (None, value)
        state.history.append((row["school_code"], field, day, position, text, number))

    return handle


def _school_closed(state: _Page, e: Any, position: int) -> None:
    row = _school(state, e, position)
    row["status"], row["closed_on"] = "closed", _day(e)


def _fund(state: _Page, e: Any, position: int) -> Row:
    code = state.fund_codes[str(e.originator_id)]
    row = state.funds[code]
    _touch(row, e, position)
    state.dirty_funds.add(code)
    return row


def _fund_opened(state: _Page, e: Any, position: int) -> None:
    state.funds[e.code] = {
        "fund_code": e.code, "fund_id": str(e.originator_id), "name": e.name,
        "fiscal_year": e.fiscal_year, "unit": e.unit, "source": e.source,
        "category": e.category, "earmark": e.earmark, "levels": ",".join(e.levels),
        "expenditure_classes": ",".join(e.expenditure_classes), "status": "open",
        "appropriated": e.amount, "proposed": 0, "allocated": 0, "spent": 0,
        "opened_on": _day(e), "closed_on": None, "version": e.originator_version,
        "position": position, "function_code": e.function_code, "doc_no": e.doc_no,
        "issuing_level": e.issuing_level,
        # received on the opening's date unless the fund names another (provenance.py)
        "received_on": (e.received_on or e.stamp.effective_date).isoformat(),
        "shares": shares_text(e.shares),
    }
    state.fund_codes[str(e.originator_id)] = e.code
    state.dirty_funds.add(e.code)


def _appropriation_adjusted(state: _Page, e: Any, position: int) -> None:
    _fund(state, e, position)["appropriated"] += e.delta


def _carried_in(state: _Page, e: Any, position: int) -> None:
    _fund(state, e, position)["appropriated"] += e.amount


def _carry_over_received(state: _Page, e: Any, position: int) -> None:
    row = _fund(state, e, position)
    row["appropriated"] += e.amount
    row["allocated"] += e.amount


def _committed(state: _Page, e: Any, position: int) -> None:
    _fund(state, e, position)["allocated"] += e.amount


def _released(state: _Page, e: Any, position: int) -> None:
    _fund(state, e, position)["allocated"] -= e.amount


def _fund_closed(state: _Page, e: Any, position: int) -> None:
    row = _fund(state, e, position)
    # The remainders left the fund: what stays allocated is what was spent.
    row["allocated"] -= e.lapsed + e.carried_over
    row["status"], row["closed_on"] = "closed", _day(e)


def _fund_year_end_closed(state: _Page, e: Any, position: int) -> None:
    row = _fund(state, e, position)
    row["allocated"] -= e.carried_forward + e.surplus_recovered
    row["status"], row["closed_on"] = "closed", _day(e)


def _allocation(state: _Page, e: Any, position: int) -> Row:
    allocation_id = str(e.originator_id)
    row = state.allocations[allocation_id]
    _touch(row, e, position)
    state.dirty_allocations.add(allocation_id)
    return row


def _fund_of(state: _Page, allocation: Row, position: int) -> Row:
    row = state.funds[allocation["fund_code"]]
    row["position"] = max(row["position"], position)
    state.dirty_funds.add(allocation["fund_code"])
    return row


def _entry(state: _Page, allocation: Row, kind: str, delta: int, count: int, day: str,
           position: int, expenditure_id: str | None = None) -> None:
    """One balance delta: a ledger entry, and the same change to the school's balance row."""
    if delta == 0 and count == 0:
        return
    # The allocation's `allocated` and `spent` are its entries' sums; with the latest entry's
    # day a report as of a later day reads them instead of the entries (fund_codes.py).
    allocation["last_entry_on"] = max(allocation["last_entry_on"] or "", day)
    state.entries.append((position, kind, day, allocation["school_code"], allocation["fund_code"],
                          allocation["fiscal_year"], allocation["unit"], delta, count,
                          allocation["allocation_id"], expenditure_id))
    key = (allocation["school_code"], allocation["fiscal_year"], allocation["fund_code"])
    balance = state.balances.get(key)
    if balance is None:
        balance = state.balances[key] = [allocation["unit"], 0, 0, 0, 0, position]
    if kind == "allocated":
        balance[1] += delta
        balance[3] += count
    else:
        balance[2] += delta
        balance[4] += count
    balance[5] = position


def _allocation_opened(state: _Page, e: Any, position: int) -> None:
    allocation_id = str(e.originator_id)
    day = _day(e)
    approved = e.origin != Origin.PROPOSAL
    row = {
        "allocation_id": allocation_id, "fund_code": e.fund_code, "school_code": e.school_code,
        "fiscal_year": e.fiscal_year, "unit": e.unit, "category": e.category,
        "purpose": e.purpose, "origin": e.origin,
        "status": Status.APPROVED.value if approved else Status.PROPOSED.value, "amount": e.amount,
        "allocated": e.amount if approved else 0, "spent": 0, "effective_date": day,
        "proposed_by": e.stamp.actor_id, "approved_by": e.approved_by,
        "approved_on": day if approved else None, "opened_position": position,
        "version": e.originator_version, "position": position, "last_entry_on": None,
    }
    state.allocations[allocation_id] = row
    state.dirty_allocations.add(allocation_id)
    if approved:
        _entry(state, row, "allocated", e.amount, 1, day, position)
    else:
        _fund_of(state, row, position)["proposed"] += e.amount


def _withdraw_proposal(state: _Page, row: Row, position: int) -> None:
    if row["status"] == Status.PROPOSED:
        _fund_of(state, row, position)["proposed"] -= row["amount"]


def _approved(state: _Page, e: Any, position: int) -> None:
    row = _allocation(state, e, position)
    _withdraw_proposal(state, row, position)
    row["status"], row["allocated"] = Status.APPROVED.value, row["amount"]
    row["approved_by"], row["approved_on"] = e.stamp.actor_id, _day(e)
    _entry(state, row, "allocated", row["amount"], 1, _day(e), position)


def _rejected(state: _Page, e: Any, position: int) -> None:
    row = _allocation(state, e, position)
    _withdraw_proposal(state, row, position)
    row["status"] = Status.REJECTED.value


def _change_allocated(field_name: str, sign: int) -> Callable[[_Page, Any, int], None]:
    def handle(state: _Page, e: Any, position: int) -> None:
        row = _allocation(state, e, position)
        delta = sign * getattr(e, field_name)
        row["allocated"] += delta
        _entry(state, row, "allocated", delta, 0, _day(e), position)

    return handle


def _ended(status: Status, released: str) -> Callable[[_Page, Any, int], None]:
    """An allocation ends (cancelled, or closed at year-end): its proposal withdrawn if still
    pending, and the part the event names in `released` leaves its allocated balance."""
    def handle(state: _Page, e: Any, position: int) -> None:
        row = _allocation(state, e, position)
        _withdraw_proposal(state, row, position)
        row["status"] = status.value
        amount = getattr(e, released)
        row["allocated"] -= amount
        _entry(state, row, "allocated", -amount, 0, _day(e), position)
    return handle


def _proposal_expired(state: _Page, e: Any, position: int) -> None:
    row = _allocation(state, e, position)
    _withdraw_proposal(state, row, position)
    row["status"] = Status.CLOSED.value


def _change_spent(sign: int) -> Callable[[_Page, Any, int], None]:
    def handle(state: _Page, e: Any, position: int) -> None:
        row = _allocation(state, e, position)
        delta = sign * e.amount
        row["spent"] += delta
        _fund_of(state, row, position)["spent"] += delta
        _entry(state, row, "spent", delta, sign, _day(e), position, str(e.expenditure_id))

    return handle


def _expenditure_recorded(state: _Page, e: Any, position: int) -> None:
    expenditure_id = str(e.originator_id)
    state.expenditures[expenditure_id] = {
        "expenditure_id": expenditure_id, "allocation_id": str(e.allocation_id),
        "fund_code": e.fund_code, "school_code": e.school_code, "fiscal_year": e.fiscal_year,
        "unit": e.unit, "amount": e.amount, "payee": e.payee, "voucher": e.voucher,
        "spent_on": e.spent_on.isoformat(), "description": e.description,
        "economic_class": e.economic_class, "status": "recorded",
        "recorded_by": e.stamp.actor_id, "reversed_on": None,
        "version": e.originator_version, "position": position,
    }
    state.dirty_expenditures.add(expenditure_id)


def _expenditure_reversed(state: _Page, e: Any, position: int) -> None:
    expenditure_id = str(e.originator_id)
    row = state.expenditures[expenditure_id]
    _touch(row, e, position)
    row["status"], row["reversed_on"] = "reversed", _day(e)
    state.dirty_expenditures.add(expenditure_id)


# Events not named here (voucher register, idempotency records, users and tokens) change no
# view of the books; the runner still moves the tracking position past them.
HANDLERS: dict[type, Callable[[_Page, Any, int], None]] = {
    School.Registered: _school_registered,
    School.Reclassified: _school_fact("locale"),
    School.EnrolmentReported: _school_fact("students"),
    School.Closed: _school_closed,
    Fund.Opened: _fund_opened,
    Fund.AppropriationAdjusted: _appropriation_adjusted,
    Fund.CarriedIn: _carried_in,
    Fund.Committed: _committed,
    Fund.CarryOverReceived: _carry_over_received,
    Fund.TrancheCommitted: _committed,
    Fund.Released: _released,
    Fund.Closed: _fund_closed,
    Fund.YearEndClosed: _fund_year_end_closed,
    Allocation.Proposed: _allocation_opened,
    Allocation.OpenedByTransfer: _allocation_opened,
    Allocation.OpenedByCarryOver: _allocation_opened,
    Allocation.CarriedIn: _allocation_opened,
    Allocation.Approved: _approved,
    Allocation.Rejected: _rejected,
    Allocation.Adjusted: _change_allocated("delta", 1),
    Allocation.Cancelled: _ended(Status.CANCELLED, "released"),
    Allocation.TransferredOut: _change_allocated("amount", -1),
    Allocation.TransferredIn: _change_allocated("amount", 1),
    Allocation.YearClosed: _ended(Status.CLOSED, "remainder"),
    Allocation.CarriedForward: _ended(Status.CLOSED, "remainder"),
    Allocation.SurplusRecovered: _ended(Status.CLOSED, "remainder"),
    Allocation.ProposalExpired: _proposal_expired,
    Allocation.Spent: _change_spent(1),
    Allocation.SpendingReversed: _change_spent(-1),
    Expenditure.Recorded: _expenditure_recorded,
    Expenditure.Reversed: _expenditure_reversed,
}
