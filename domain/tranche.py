"""Semester tranches of formula funding: every eligible school's share of a fund computed from
an enrolment snapshot and the per-pupil standards, proposed as one batch and approved (or
rejected) as one by a second person.

The formula, per school (teaching points counted with their parent school):
    counted pupils = max(pupils, small-school floor)          (0 pupils: nothing)
    annual         = rate × counted + boarder addition × boarders
                     + special-needs addition × special-needs pupils   (fen)
    amount         = annual × share, rounded to the fen half-to-even
The tranche total is the sum of the rounded amounts; the rounding difference (total − exact
sum) is shown and stored, so an auditor can recompute every figure.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import Stamp, check_not_maker
from domain.errors import (
    AlreadyExists,
    InvalidInput,
    NotFound,
    NotProposed,
    RuleViolation,
)
from domain.funding_standard import SEMESTER_SHARE, Rates, rounded_fen
from domain.natural_keys import KeyedAggregate, natural_id

SHARE_PLACES_MAX = 4
SHARE_DEFAULT = SEMESTER_SHARE


class Semester(StrEnum):
    SPRING = "spring"  # 春季学期: issued around February–March
    AUTUMN = "autumn"  # 秋季学期: issued around August–September


class TrancheNotFound(NotFound, code="tranche_not_found"):
    """No tranche has this id."""


class SnapshotNotFound(NotFound, code="snapshot_not_found"):
    """No enrolment snapshot has this id."""


class TrancheExists(AlreadyExists, code="tranche_exists"):
    """One fund, semester and snapshot take one tranche at a time (TrancheSlot)."""


class TrancheExceedsAvailable(RuleViolation, code="tranche_exceeds_available"):
    """A tranche's total is at most what the fund has left to allocate."""


class PlanChanged(RuleViolation, code="plan_changed"):
    """A tranche is proposed as previewed: amounts or eligible schools that changed since the
    preview are previewed again."""


def plain(value: Decimal) -> str:
    """A decimal as plain digits (no exponent, no trailing zeros): '18500000', '-0.5'."""
    return format(value.normalize(), "f") if value else "0"


def check_share(share: Any) -> Decimal:
    """A semester's share of the year's amount: 0 < share ≤ 1, at most four decimal places."""
    try:
        value = share if isinstance(share, Decimal) else Decimal(str(share))
    except ArithmeticError:
        value = Decimal("NaN")
    if (isinstance(share, bool) or not value.is_finite() or not Decimal(0) < value <= Decimal(1)
            or value != value.quantize(Decimal(1).scaleb(-SHARE_PLACES_MAX))):
        msg = f"share must be a number above 0 and at most 1 with at most {SHARE_PLACES_MAX} decimals"
        raise InvalidInput(msg)
    return value


@dataclass(frozen=True)
class Pupils:
    """A school's counts as the snapshot holds them, with its teaching points folded in."""

    total: int
    boarders: int
    special_needs: int
    teaching_points: tuple[str, ...] = ()

    def plus(self, code: str, other: Pupils) -> Pupils:
        return Pupils(self.total + other.total, self.boarders + other.boarders,
                      self.special_needs + other.special_needs, (*self.teaching_points, code))


@dataclass(frozen=True)
class FormulaLine:
    """One school's amount and every input it was computed from."""

    school: str
    level: str
    pupils: int
    teaching_points: list[str]
    counted_pupils: int
    boarders: int
    special_needs: int
    rate: int
    boarder_addition: int
    special_needs_addition: int
    small_school_floor: int
    document: str
    annual: int
    share: str
    exact: str
    amount: int
    rounding: str

    @classmethod
    def compute(cls, school: str, level: str, pupils: Pupils, rates: Rates,
                share: Decimal) -> FormulaLine:
        counted = rates.counted(pupils.total)
        annual = rates.annual_for(counted, pupils.boarders, pupils.special_needs)
        exact = rates.exact_share(pupils.total, pupils.boarders, pupils.special_needs, share)
        amount = rounded_fen(exact)
        return cls(school=school, level=level, pupils=pupils.total,
                   teaching_points=list(pupils.teaching_points), counted_pupils=counted,
                   boarders=pupils.boarders, special_needs=pupils.special_needs, rate=rates.rate,
                   boarder_addition=rates.boarder_addition,
                   special_needs_addition=rates.special_needs_addition,
                   small_school_floor=rates.small_school_floor, document=rates.document,
                   annual=annual, share=plain(share), exact=plain(exact), amount=amount,
                   rounding=plain(Decimal(amount) - exact))


@dataclass
class TranchePlan:
    """What a tranche would allocate: lines, schools left out and why, levels without a
    standard, and the totals against the fund's available amount."""

    fund: str
    fiscal_year: int
    unit: str
    snapshot: str
    snapshot_name: str
    semester: str
    share: str
    effective_date: date
    available: int
    lines: list[FormulaLine] = field(default_factory=list)
    excluded: list[dict[str, str]] = field(default_factory=list)
    missing_standards: list[dict[str, Any]] = field(default_factory=list)
    eligible_rows: list[bool] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def exact_total(self) -> Decimal:
        return sum((Decimal(line.exact) for line in self.lines), Decimal(0))

    @property
    def rounding_difference(self) -> Decimal:
        return Decimal(self.total) - self.exact_total

    @property
    def shortfall(self) -> int:
        return max(0, self.total - self.available)

    @property
    def mark(self) -> str:
        """The plan as the officer saw it (not a secret): which snapshot rows were eligible (a bitmap, so a
        proposal can name a school that dropped out since) and a digest of every amount."""
        bits = bytearray((len(self.eligible_rows) + 7) // 8)
        for index, eligible in enumerate(self.eligible_rows):
            if eligible:
                bits[index // 8] |= 1 << (index % 8)
        digest = hashlib.sha256(
            "|".join(f"{line.school}:{line.amount}" for line in self.lines).encode()
        ).hexdigest()[:16]
        return f"{base64.urlsafe_b64encode(bytes(bits)).decode().rstrip('=')}.{digest}"

    def check_mark(self, mark: str, row_schools: list[str]) -> None:
        """Refuses a proposal whose plan is no longer the one previewed, naming the schools
        that have dropped out since."""
        if mark == self.mark:
            return
        bitmap, _, _ = mark.partition(".")
        try:
            bits = base64.urlsafe_b64decode(bitmap + "=" * (-len(bitmap) % 4))
        except ValueError:
            msg = "plan is not the `plan` a preview gave"
            raise InvalidInput(msg) from None
        was = {code for index, code in enumerate(row_schools)
               if index // 8 < len(bits) and bits[index // 8] >> (index % 8) & 1}
        reasons = {e["school"]: e["reason"] for e in self.excluded}
        dropped = sorted(code for code in was if code in reasons)
        if dropped:
            named = "; ".join(f"{code}: {reasons[code]}" for code in dropped[:20])
            msg = f"schools no longer eligible since the preview: {named}"
        else:
            msg = "the amounts changed since the preview (standards, snapshot or fund); preview again"
        raise PlanChanged(msg)


class TrancheSlot(KeyedAggregate):
    """One fund, semester and snapshot take one tranche at a time: the store's uniqueness on
    this register's id refuses a second one even under races; a rejection frees it."""

    @staticmethod
    def id_for(fund_code: str, semester: str, snapshot_id: UUID) -> UUID:
        return natural_id("tranche-slot", fund_code, semester, snapshot_id)

    @event("Claimed")
    def __init__(self, fund_code: str, semester: str, snapshot_id: UUID, tranche_id: UUID) -> None:
        self.tranche_id: UUID | None = tranche_id
        self.claims = 1

    def claim_again(self, tranche_id: UUID) -> None:
        if self.tranche_id is not None:
            msg = f"tranche {self.tranche_id} already covers this fund, semester and snapshot"
            raise TrancheExists(msg)
        self._claim_again(tranche_id=tranche_id)

    @event("ClaimedAgain")
    def _claim_again(self, tranche_id: UUID) -> None:
        self.tranche_id = tranche_id
        self.claims += 1

    @event("Freed")
    def free(self) -> None:
        self.tranche_id = None


class Tranche(Aggregate):
    """A batch of formula allocations, decided as one."""

    @event("Proposed")
    def __init__(self, fund_id: UUID, fund_code: str, fiscal_year: int, unit: str,
                 snapshot_id: UUID, snapshot_name: str, semester: str, share: str,
                 lines: list[dict[str, Any]], total: int, exact_total: str,
                 rounding_difference: str, stamp: Stamp) -> None:
        self.fund_id = fund_id
        self.fund_code = fund_code
        self.fiscal_year = fiscal_year
        self.unit = unit
        self.snapshot_id = snapshot_id
        self.snapshot_name = snapshot_name
        self.semester = semester
        self.share = share
        self.lines = lines
        self.total = total
        self.exact_total = exact_total
        self.rounding_difference = rounding_difference
        self.effective_date = stamp.effective_date
        self.proposed_by = stamp.actor_id
        self.status = "proposed"
        self.decided_by: str | None = None
        self.decided_on: date | None = None
        self.excluded: list[dict[str, str]] = []
        self.reason = ""

    @classmethod
    def propose(cls, tranche_id: UUID, plan: TranchePlan, fund_id: UUID, snapshot_id: UUID,
                allocation_ids: dict[str, UUID], stamp: Stamp) -> Tranche:
        lines = [{**asdict(line), "allocation": allocation_ids[line.school]}
                 for line in plan.lines]
        return cls._create(cls.Proposed, id=tranche_id, fund_id=fund_id, fund_code=plan.fund,
                           fiscal_year=plan.fiscal_year, unit=plan.unit, snapshot_id=snapshot_id,
                           snapshot_name=plan.snapshot_name, semester=plan.semester,
                           share=plan.share, lines=lines, total=plan.total,
                           exact_total=plain(plan.exact_total),
                           rounding_difference=plain(plan.rounding_difference), stamp=stamp)

    def allocation_ids(self) -> dict[str, UUID]:
        return {line["school"]: UUID(str(line["allocation"])) for line in self.lines}

    def check_decision(self, stamp: Stamp) -> None:
        if self.status != "proposed":
            msg = f"tranche {self.id} is {self.status}, not awaiting a decision"
            raise NotProposed(msg)
        check_not_maker(stamp, self.proposed_by, f"proposed tranche {self.id}")
        if stamp.effective_date < self.effective_date:
            msg = (f"the decision's date {stamp.effective_date} is before the tranche's "
                   f"effective date {self.effective_date}")
            raise InvalidInput(msg)

    def approve(self, excluded: dict[str, str], approved_total: int, stamp: Stamp) -> None:
        """Approves every allocation but the excluded schools' (they stay proposed)."""
        self.check_decision(stamp)
        unknown = sorted(set(excluded) - set(self.allocation_ids()))
        if unknown:
            msg = f"schools not in tranche {self.id}: {', '.join(unknown[:20])}"
            raise InvalidInput(msg)
        self._approve(excluded=[{"school": k, "reason": v} for k, v in sorted(excluded.items())],
                      approved_total=approved_total, stamp=stamp)

    @event("Approved")
    def _approve(self, excluded: list[dict[str, str]], approved_total: int, stamp: Stamp) -> None:
        self.status = "approved"
        self.excluded = excluded
        self.decided_by = stamp.actor_id
        self.decided_on = stamp.effective_date

    def reject(self, stamp: Stamp) -> None:
        self.check_decision(stamp)
        self._reject(stamp=stamp)

    @event("Rejected")
    def _reject(self, stamp: Stamp) -> None:
        self.status = "rejected"
        self.decided_by = stamp.actor_id
        self.decided_on = stamp.effective_date
        self.reason = stamp.reason
