"""Who acts on the books, and the stamp every event carries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from domain.errors import MakerCheckerViolation, RoleNotAllowed


class Role(StrEnum):
    OFFICER = "officer"  # finance officer: records allocations and expenditures
    APPROVER = "approver"  # section chief: approves, adjusts, closes the year
    AUDITOR = "auditor"  # reads everything, writes nothing
    READER = "reader"  # API consumer: balances and reports
    ADMIN = "admin"  # issues and revokes access tokens


# Who may see the payees of personal payments (issue 14): a reader sees them masked.
PERSONAL_DATA_ROLES = frozenset({Role.OFFICER, Role.APPROVER, Role.AUDITOR})
# Roles a school scope may limit: a scope limits reading; writing roles act bureau-wide.
SCOPED_ROLES = frozenset({Role.READER})


@dataclass(frozen=True)
class Actor:
    user_id: str
    roles: frozenset[Role]
    # The schools this actor may read; None: every school (api.auth.school_scope applies it).
    schools: frozenset[str] | None = None

    def sees_school(self, code: str) -> bool:
        return self.schools is None or code in self.schools

    @property
    def sees_personal_data(self) -> bool:
        return bool(self.roles & PERSONAL_DATA_ROLES)

    def acting_as(self, role: Role) -> Role:
        """The role under which a command is taken, or a refusal naming the role needed."""
        if role not in self.roles:
            held = ", ".join(sorted(self.roles)) or "none"
            msg = f"{self.user_id} holds {held}; this needs the {role} role"
            raise RoleNotAllowed(msg)
        return role


@dataclass(frozen=True)
class Stamp:
    """Who did it, as what, with which business date, request key and reason.

    The UTC time it was recorded is the event's own `timestamp`.
    """

    actor_id: str
    actor_role: str
    effective_date: date
    idempotency_key: str | None = None
    reason: str = ""


def check_not_maker(stamp: Stamp, maker: str, made: str, decide: str = "decide on") -> None:
    """Maker–checker (two persons, DESIGN.md agreement 3): whoever made or proposed a thing
    never decides on it. `made` says what they did ("proposed tranche …"), `decide` what
    they may not do to it."""
    if stamp.actor_id == maker:
        msg = f"{stamp.actor_id} {made} and cannot also {decide} it"
        raise MakerCheckerViolation(msg, f"{stamp.actor_id} 是申请人，不得审批本人提交的事项")
