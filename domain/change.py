"""Two-person changes: a change that moves approved money is made by one person and applied
only when another approves it (maker–checker, 四眼原则).

A `PendingChange` records what was asked (its kind and the command's checked parameters),
by whom, and which people may not approve it: the maker, and whoever proposed an allocation
the change touches. Nothing moves while it is pending. Approval applies the change and
records the decision in one atomic save; a change that no longer fits (the money was spent
meanwhile) is refused with the rule's own error and stays pending, for a reject.

Kinds are registered here (`register_change_kind`); each names the function that applies it.
The ledger knows nothing of any particular kind beyond the ones it registers itself, so
year-end closes, prior-year reversals or post moves plug in the same way (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import Actor, Role, Stamp, check_not_maker
from domain.errors import ChangeNotPending, InvalidInput, MakerCheckerViolation
from domain.natural_keys import natural_id


class ChangeStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class ChangeContext:
    """Whom an applied change's events name, and how they link back to the change.

    The events are stamped with the maker (who asked for the movement); their idempotency
    key is `change:<id>`, and the change's own `Approved` event, saved in the same write,
    names the approver. `approved_by` is None while a change is only tried (at its making).
    """

    change_id: UUID
    maker: Actor
    maker_role: Role
    approved_by: str | None

    @property
    def key(self) -> str:
        return f"change:{self.change_id}"

    def stamp(self, day: date, reason: str) -> Stamp:
        """The stamp of the events the change applies: the maker's, keyed by the change."""
        return Stamp(self.maker.user_id, self.maker_role.value, day, self.key, reason)

    def derived_id(self, what: str) -> UUID:
        """The id of something the change creates (a transfer's new allocation): the same on
        every attempt and every retry of the approval."""
        return natural_id("change", self.change_id, what)


# apply(ledger, context, params) → the ledger's decision (subjects, changed aggregates).
# It loads what it needs through the ledger, lets the aggregates check their rules and raises
# the rule's LedgerError when the change does not fit. It must not check roles: the maker's
# role was checked when the change was made, the approver's when it is approved.
ApplyChange = Callable[[Any, ChangeContext, dict[str, Any]], Any]


@dataclass(frozen=True)
class ChangeKind:
    name: str  # stable: stored in events and shown in the API (`allocation_adjust`)
    apply: ApplyChange
    title: str = ""
    # What the kind's apply decides does not depend on who approves (it reads no
    # `approved_by`): the try made when the change was made may be applied as it is.
    try_reusable: bool = False


CHANGE_KINDS: dict[str, ChangeKind] = {}


def register_change_kind(name: str, apply: ApplyChange, title: str = "", *,
                         try_reusable: bool = False) -> ChangeKind:
    """Makes a kind of two-person change known. Registering a name twice with another
    function is a programming error (two modules would claim one stored kind)."""
    existing = CHANGE_KINDS.get(name)
    if existing is not None and existing.apply is not apply:
        msg = f"change kind {name} is already registered"
        raise RuntimeError(msg)
    kind = ChangeKind(name, apply, title, try_reusable)
    CHANGE_KINDS[name] = kind
    return kind


def change_kind(name: str) -> ChangeKind:
    try:
        return CHANGE_KINDS[name]
    except KeyError:
        known = ", ".join(sorted(CHANGE_KINDS))
        msg = f"unknown change kind {name!r} (known: {known})"
        raise InvalidInput(msg) from None


class TwoPersonProposal(Aggregate):
    """Something one person proposed that moves nothing until another person decides on it:
    pending from its proposal, then approved or rejected once. A kind says who may not decide
    (`check_checker`) and what its `Approved` and `Rejected` events record."""

    def _proposed(self, stamp: Stamp) -> None:
        """What every proposal records (called from its `Proposed` event's body): who proposed
        it and why; it is pending."""
        self.maker = stamp.actor_id
        self.reason = stamp.reason
        self.status = ChangeStatus.PENDING.value

    @property
    def is_pending(self) -> bool:
        return self.status == ChangeStatus.PENDING

    def check_checker(self, stamp: Stamp) -> None:
        raise NotImplementedError

    def decide(self, approve: bool, stamp: Stamp) -> None:
        """Approves or rejects the proposal, once the one deciding may."""
        self.check_checker(stamp)
        if approve:
            self._approve(stamp=stamp)
        else:
            self._reject(stamp=stamp)

    def _approve(self, stamp: Stamp) -> None:
        raise NotImplementedError

    def _reject(self, stamp: Stamp) -> None:
        raise NotImplementedError


class PendingChange(TwoPersonProposal):
    @event("Proposed")
    def __init__(self, id: UUID, kind: str, params: dict[str, Any], subjects: list[str],
                 excluded_checkers: list[str], stamp: Stamp) -> None:
        self._proposed(stamp)
        self.kind = kind
        self.params = params
        self.subjects = subjects
        self.excluded_checkers = excluded_checkers
        self.maker_role = stamp.actor_role
        self.proposed_on = stamp.effective_date
        self.decided_by: str | None = None
        self.decided_on: date | None = None
        self.decision_reason = ""

    def check_checker(self, stamp: Stamp) -> None:
        """The one deciding is neither the maker nor anyone the change excludes."""
        if not self.is_pending:
            msg = f"change {self.id} is {self.status}"
            raise ChangeNotPending(msg)
        check_not_maker(stamp, self.maker, f"made change {self.id}")
        if stamp.actor_id in self.excluded_checkers:
            msg = (f"{stamp.actor_id} proposed an allocation that change {self.id} touches "
                   "and cannot decide on it")
            raise MakerCheckerViolation(msg, f"{stamp.actor_id} 提出了变更 {self.id} 涉及的拨款，"
                                             "不得复核该变更")

    @event("Approved")
    def _approve(self, stamp: Stamp) -> None:
        self._decided(ChangeStatus.APPROVED, stamp)

    @event("Rejected")
    def _reject(self, stamp: Stamp) -> None:
        self._decided(ChangeStatus.REJECTED, stamp)

    def _decided(self, status: ChangeStatus, stamp: Stamp) -> None:
        """What an approval and a rejection both record: the decision, by whom, on which
        day and why (called from the events' bodies, so a replay records it likewise)."""
        self.status = status.value
        self.decided_by = stamp.actor_id
        self.decided_on = stamp.effective_date
        self.decision_reason = stamp.reason
