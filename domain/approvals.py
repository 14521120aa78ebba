"""The commands on two-person changes (domain/change.py): make one of a registered kind,
approve it (applied in the same atomic write) or reject it."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain.actors import Actor, Role
from domain.bureau import Bureau
from domain.change import ChangeContext, PendingChange, change_kind
from domain.errors import ChangeNotFound
from domain.idempotency import id_from_key
from domain.rules import reason_text
from domain.unit_of_work import Decision, Outcome, current_batch, retime

# Tries kept in this process for their approval: a year's close holds thousands of aggregates.
TRIES_KEPT_MAX = 4


@dataclass(frozen=True)
class Try:
    """A change as it was tried when made, and where the store stood: the change's own event
    right after everything the try read. While the store's head is still there and the day is
    the same, approving applies exactly this decision, so it is not decided a second time."""

    decision: Decision
    position: int
    day: date


class ChangeCommands(Bureau):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tries: OrderedDict[UUID, Try] = OrderedDict()
        self._tries_lock = threading.Lock()

    def propose_change(self, actor: Actor, role: Role, kind: str, params: dict[str, Any],
                       idempotency_key: str | None, *,
                       check: Callable[[], object] | None = None) -> Outcome:
        """Records a two-person change of a registered kind; nothing moves until another
        person approves it. The change is tried first on the books as they are (on copies,
        nothing saved), so one that cannot apply now is refused at once with the rule's own
        error. `check` runs first (an If-Match version, say). `params` are the command's
        checked parameters, stored in the change and handed to the kind's apply function."""
        kind_ = change_kind(kind)
        kept: list[tuple[Decision, int]] = []  # the last attempt's try, and the head before it

        def decide() -> Decision:
            if check is not None:
                check()
            change_id = (id_from_key("change", actor.user_id, idempotency_key)
                         if idempotency_key else uuid4())
            head = self.last_position() if kind_.try_reusable else 0
            tried = kind_.apply(self, ChangeContext(change_id, actor, role, None), params)
            kept[:] = [(tried, head)]
            self.check_decision(tried.changed)  # a change dated in a closed month, say
            # Whoever proposed an allocation the change touches may not approve it either.
            excluded = sorted({proposer for a in tried.changed
                               if (proposer := getattr(a, "proposed_by", None))
                               and proposer != actor.user_id})
            stamp = self.stamp(actor, role, None, idempotency_key, params.get("reason", ""))
            return Decision([PendingChange(
                id=change_id, kind=kind_.name, params=params,
                subjects=[subject_name(a) for a in tried.subjects],
                excluded_checkers=excluded, stamp=stamp)])

        outcome = self.run(actor, kind_.name, params, idempotency_key, decide)
        if kept and not outcome.replayed and current_batch.get() is None:
            tried, head = kept[0]
            # Nothing else was written between the try's reads and the change itself (its
            # Proposed event, and its idempotency record when keyed).
            written = 2 if idempotency_key else 1
            if kind_.try_reusable and outcome.position == head + written:
                self._keep_try(outcome.subject.id, Try(tried, outcome.position, self.today()))
        return outcome

    def approve_change(
        self, actor: Actor, change_id: UUID, *, reason: str = "",
        expected_version: int | None = None, idempotency_key: str | None = None,
    ) -> Outcome:
        """Applies a pending change and records its approval in one atomic write. Subjects:
        the change, then what it changed. A change that no longer fits is refused with the
        rule's error and stays pending."""
        role = actor.acting_as(Role.APPROVER)
        reason = reason_text(reason, required=False)

        def decide() -> Decision:
            change = self._change(change_id, expected_version)
            change.decide(True, self.stamp(actor, role, None, idempotency_key, reason))
            maker_role = Role(change.maker_role)
            context = ChangeContext(change.id, Actor(change.maker, frozenset({maker_role})),
                                    maker_role, actor.user_id)
            applied = (self._kept_try(change.id)
                       or change_kind(change.kind).apply(self, context, change.params))
            return Decision([change, *applied.subjects], [change, *applied.changed])

        return self.run(actor, "approve_change", {"change": str(change_id), "reason": reason},
                        idempotency_key, decide)

    def reject_change(
        self, actor: Actor, change_id: UUID, *, reason: str,
        expected_version: int | None = None, idempotency_key: str | None = None,
    ) -> Outcome:
        """Rejects a pending change, with a reason; nothing moves."""
        role = actor.acting_as(Role.APPROVER)
        reason = reason_text(reason)

        def decide() -> Decision:
            change = self._change(change_id, expected_version)
            change.decide(False, self.stamp(actor, role, None, idempotency_key, reason))
            return Decision([change])

        return self.run(actor, "reject_change", {"change": str(change_id), "reason": reason},
                        idempotency_key, decide)

    def _keep_try(self, change_id: UUID, tried: Try) -> None:
        with self._tries_lock:
            self._tries[change_id] = tried
            while len(self._tries) > TRIES_KEPT_MAX:
                self._tries.popitem(last=False)

    def _kept_try(self, change_id: UUID) -> Decision | None:
        """The change's try, when the store has not moved since the change was made (one
        query: its head); taken once, so a retried approval decides afresh."""
        with self._tries_lock:
            tried = self._tries.pop(change_id, None)
        if (tried is None or current_batch.get() is not None or tried.day != self.today()
                or self.last_position() != tried.position):
            return None
        retime(tried.decision.changed)
        return tried.decision

    def get_change(self, change_id: UUID) -> PendingChange:
        return self._change(change_id)

    def _change(self, change_id: UUID, expected_version: int | None = None) -> PendingChange:
        return self.require(PendingChange, change_id, ChangeNotFound, f"change {change_id}",
                            expected_version)


def subject_name(aggregate: Aggregate) -> str:
    """`allocation:<id>`, `fund:<code>`: what a change concerns, for lists and filters."""
    kind = type(aggregate).__name__.lower()
    code = getattr(aggregate, "code", None)
    return f"{kind}:{code if code is not None else aggregate.id}"
