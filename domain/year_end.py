"""Year-end close of a fund: each open allocation's remainder lapses (结余) or is carried over
(结转) into a named fund of the next fiscal year, for the same school."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.actors import Stamp
from domain.allocation import Allocation, Status
from domain.errors import CarryOverTargetInvalid, InvalidInput
from domain.fund import Fund

LAPSE = "lapse"
CARRY_OVER = "carry_over"


def check_disposition(disposition: str, carry_to: str | None) -> None:
    if disposition not in (LAPSE, CARRY_OVER):
        msg = "disposition must be 'lapse' or 'carry_over'"
        raise InvalidInput(msg)
    if (disposition == CARRY_OVER) != (carry_to is not None):
        msg = "carry_to names the next year's fund exactly when the disposition is carry_over"
        raise InvalidInput(msg)


def check_carry_over_target(fund: Fund, target: Fund) -> None:
    """A carry-over goes to an open fund of the next fiscal year, in the same unit."""
    if target.fiscal_year != fund.fiscal_year + 1 or target.unit != fund.unit or target.closed:
        msg = (f"fund {target.code} ({target.fiscal_year}, {target.unit}) cannot receive "
               f"{fund.code}'s carry-over; it must be an open {fund.fiscal_year + 1} "
               f"fund in {fund.unit}")
        raise CarryOverTargetInvalid(msg)


def next_year_stamp(fund: Fund, stamp: Stamp) -> Stamp:
    """Carried money arrives on the first day of the next fiscal year."""
    return Stamp(stamp.actor_id, stamp.actor_role, date(fund.fiscal_year + 1, 1, 1),
                 stamp.idempotency_key, stamp.reason)


def close_fund(fund: Fund, disposition: str, target: Fund | None, load: Callable[[UUID], Any],
               stamp: Stamp, approved_by: str | None = None) -> list[Aggregate]:
    """Closes the fund's open allocations and then the fund; returns every aggregate changed.

    `load` reads an allocation or a school by id. The carried remainder becomes an allocation
    of the target fund, so the target's earmark and level rules hold for it as for any other;
    it records `approved_by`, who approved the close (a two-person change).
    """
    fund.check_open()
    changed: list[Aggregate] = [fund]
    lapsed = carried = 0
    arrival = next_year_stamp(fund, stamp)
    for allocation_id in fund.allocation_ids:
        allocation = load(allocation_id)
        if not allocation.is_open:
            continue
        carry_id = allocation.carry_id()
        remainder = allocation.remaining if allocation.status == Status.APPROVED else 0
        if target is not None and remainder > 0:
            target.check_eligible(load(allocation.school_id), arrival.effective_date)
            allocation.close_year(disposition, carry_id, stamp)
            carried += remainder
            successor = Allocation.open_by_carry_over(
                carry_id, approved_by=approved_by,
                **target.allocation_terms(allocation.school_id, allocation.school_code,
                                          allocation.purpose, remainder),
                stamp=arrival)
            changed.append(successor)
        else:
            lapsed += allocation.close_year(LAPSE, None, stamp)
        changed.append(allocation)
    fund.close(disposition, lapsed, carried, target.code if target else None, stamp)
    if target is not None and carried > 0:
        target.carry_in(fund.code, carried, arrival)
        for successor in changed:
            if isinstance(successor, Allocation) and successor.fund_id == target.id:
                target.commit(successor.id, successor.allocated, arrival)
        changed.append(target)
    return changed
