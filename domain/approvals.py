"""The commands on two-person changes (domain/change.py): make one of a registered kind,
approve it (applied in the same atomic write) or reject it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain.actors import Actor, Role
from domain.bureau import Bureau, reason_text
from domain.change import ChangeContext, PendingChange, change_kind
from domain.errors import ChangeNotFound
from domain.idempotency import id_from_key
from domain.unit_of_work import Decision, Outcome


class ChangeCommands(Bureau):
    def propose_change(self, actor: Actor, role: Role, kind: str, params: dict[str, Any],
                       idempotency_key: str | None, *,
                       check: Callable[[], object] | None = None) -> Outcome:
        """Records a two-person change of a registered kind; nothing moves until another
        person approves it. The change is tried first on the books as they are (on copies,
        nothing saved), so one that cannot apply now is refused at once with the rule's own
        error. `check` runs first (an If-Match version, say). `params` are the command's
        checked parameters, stored in the change and handed to the kind's apply function."""
        kind_ = change_kind(kind)

        def decide() -> Decision:
            if check is not None:
                check()
            change_id = (id_from_key("change", actor.user_id, idempotency_key)
                         if idempotency_key else uuid4())
            tried = kind_.apply(self, ChangeContext(change_id, actor, role, None), params)
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

        return self.run(actor, kind_.name, params, idempotency_key, decide)

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
            change.approve(self.stamp(actor, role, None, idempotency_key, reason))
            maker_role = Role(change.maker_role)
            context = ChangeContext(change.id, Actor(change.maker, frozenset({maker_role})),
                                    maker_role, actor.user_id)
            applied = change_kind(change.kind).apply(self, context, change.params)
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
            change.reject(self.stamp(actor, role, None, idempotency_key, reason))
            return Decision([change])

        return self.run(actor, "reject_change", {"change": str(change_id), "reason": reason},
                        idempotency_key, decide)

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
