"""Per-pupil funding standards (生均公用经费基准定额): per fiscal year, school level and fund
category, a rate per pupil per year, optional additions per boarder and per mainstreamed
special-needs pupil, and a small-school floor (a school with fewer pupils is funded as if it
had that many; teaching points count with their parent school).

A standard is set by one officer, citing the document (文号) that fixes it, and comes into
force only when a second person approves it. Every revision stays in its history.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.actors import Stamp, check_not_maker
from domain.errors import (
    NotProposed,
    RuleViolation,
)
from domain.limits import AMOUNT_MINOR_MAX, STUDENTS_MAX
from domain.natural_keys import KeyedAggregate, natural_id
from domain.rules import check_whole
from domain.school import School
from domain.units import money_text

# "Count as 100 pupils": the floor for small rural schools (reference/domain.md, [C40] audit).
SMALL_SCHOOL_FLOOR_DEFAULT = 100
# Each semester's tranche is half the year's amount (reference/domain.md §5).
SEMESTER_SHARE = Decimal("0.5")
# A per-pupil rate above ¥1,000,000 a year is a typing error, not a standard.
RATE_MINOR_MAX = 100_000_000


class StandardPending(RuleViolation, code="standard_pending"):
    """A standard has one revision awaiting approval at a time."""


class StandardMissing(RuleViolation, code="standard_missing"):
    """A tranche is computed only when every eligible level has an approved standard."""


class BelowStandard(RuleViolation, code="below_standard"):
    """A hand-proposed amount below one semester's standard needs a reason."""


@dataclass(frozen=True)
class Rates:
    """What a standard fixes, in fen per pupil per year (additions likewise per pupil)."""

    rate: int
    boarder_addition: int
    special_needs_addition: int
    small_school_floor: int
    document: str

    def annual_for(self, counted_pupils: int, boarders: int, special_needs: int) -> int:
        """The year's amount in fen before the semester share: rate × counted pupils plus the
        additions for boarders and special-needs pupils."""
        return (self.rate * counted_pupils + self.boarder_addition * boarders
                + self.special_needs_addition * special_needs)

    def counted(self, pupils: int) -> int:
        """A small school (with its teaching points) is funded as if it had the floor's pupils."""
        return max(pupils, self.small_school_floor) if pupils > 0 else 0

    def exact_share(self, pupils: int, boarders: int, special_needs: int,
                    share: Decimal) -> Decimal:
        return Decimal(self.annual_for(self.counted(pupils), boarders, special_needs)) * share


def rounded_fen(exact: Decimal) -> int:
    """Formula amounts round to the fen, half to even, school by school."""
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def semester_standard(standard: FundingStandard | None, school: School, day: date) -> int | None:
    """What the standard gives a school for one semester (half the year), from the enrolment
    it had reported by `day`; None when no standard is in force for its level."""
    rates = standard.rates() if standard is not None else None
    if rates is None:
        return None
    report = school.enrolment_report_on(day)
    exact = rates.exact_share(report.students, report.boarders or 0, report.special_needs or 0,
                              SEMESTER_SHARE)
    return rounded_fen(exact)


def check_hand_allocation(standard: FundingStandard | None, school: School, day: date,
                          amount: int, unit: str, reason: str) -> int | None:
    """A formula-funded fund refuses a hand-proposed amount below one semester's standard for
    an eligible school, unless the proposal gives its reason. Returns the standard amount when
    a reason accepts a lower one."""
    floor = semester_standard(standard, school, day)
    if floor is None or amount >= floor:
        return None
    if not reason:
        msg = (f"{money_text(amount, unit)} is below the per-pupil standard for {school.code} "
               f"({money_text(floor, unit)} a semester at {school.students_on(day)} pupils); "
               "give below_standard_reason to propose it anyway")
        raise BelowStandard(msg)
    return floor


def check_rates(rate: int, boarder_addition: int, special_needs_addition: int,
                small_school_floor: int) -> None:
    check_whole(rate, "rate", 1, RATE_MINOR_MAX, fen=True)
    check_whole(boarder_addition, "boarder_addition", 0, RATE_MINOR_MAX, fen=True)
    check_whole(special_needs_addition, "special_needs_addition", 0, RATE_MINOR_MAX, fen=True)
    check_whole(small_school_floor, "small_school_floor", 0, STUDENTS_MAX)
    assert RATE_MINOR_MAX * STUDENTS_MAX * 3 < AMOUNT_MINOR_MAX


class FundingStandard(KeyedAggregate):
    """The standard of one fiscal year, level and fund category, with its revisions."""

    @staticmethod
    def id_for(fiscal_year: int, level: str, category: str) -> UUID:
        return natural_id("funding-standard", fiscal_year, level, category)

    @event("Proposed")
    def __init__(self, fiscal_year: int, level: str, category: str, rates: dict[str, Any],
                 stamp: Stamp) -> None:
        self.fiscal_year = fiscal_year
        self.level = level
        self.category = category
        self.in_force: dict[str, Any] | None = None
        self.pending: dict[str, Any] | None = None
        self.history: list[dict[str, Any]] = []
        self._propose(rates, stamp)

    @property
    def status(self) -> str:
        if self.pending is not None:
            return "pending"
        return "approved" if self.in_force is not None else "rejected"

    def rates(self) -> Rates | None:
        """The rates in force, or None while no revision has been approved."""
        if self.in_force is None:
            return None
        return Rates(**{k: self.in_force[k] for k in Rates.__dataclass_fields__})

    def revise(self, rates: Rates, stamp: Stamp) -> None:
        if self.pending is not None:
            msg = (f"the {self.fiscal_year} {self.level} {self.category} standard already has a "
                   f"revision awaiting approval (by {self.pending['set_by']})")
            raise StandardPending(msg)
        self._revise(rates=asdict(rates), stamp=stamp)

    @event("Revised")
    def _revise(self, rates: dict[str, Any], stamp: Stamp) -> None:
        self._propose(rates, stamp)

    def _propose(self, rates: dict[str, Any], stamp: Stamp) -> None:
        self.pending = {**rates, "revision": len(self.history) + 1, "set_by": stamp.actor_id,
                        "set_on": stamp.effective_date, "reason": stamp.reason}

    def approve(self, stamp: Stamp) -> None:
        pending = self._check_pending()
        check_not_maker(stamp, pending["set_by"], "set this standard", "approve")
        self._approve(stamp=stamp)

    @event("Approved")
    def _approve(self, stamp: Stamp) -> None:
        assert self.pending is not None
        self.in_force = {**self.pending, "approved_by": stamp.actor_id,
                         "approved_on": stamp.effective_date}
        self.history.append({**self.in_force, "status": "approved"})
        self.pending = None

    def reject(self, stamp: Stamp) -> None:
        pending = self._check_pending()
        check_not_maker(stamp, pending["set_by"], "set this standard")
        self._reject(stamp=stamp)

    @event("Rejected")
    def _reject(self, stamp: Stamp) -> None:
        assert self.pending is not None
        self.history.append({**self.pending, "status": "rejected", "rejected_by": stamp.actor_id,
                             "rejected_on": stamp.effective_date, "reason": stamp.reason})
        self.pending = None

    def _check_pending(self) -> dict[str, Any]:
        if self.pending is None:
            msg = (f"the {self.fiscal_year} {self.level} {self.category} standard has no "
                   "revision awaiting a decision")
            raise NotProposed(msg)
        return self.pending

