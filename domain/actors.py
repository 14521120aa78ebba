"""Who acts on the books, and the stamp every event carries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from domain.errors import RoleNotAllowed


class Role(StrEnum):
    OFFICER = "officer"  # finance officer: records allocations and expenditures
    APPROVER = "approver"  # section chief: approves, adjusts, closes the year
    AUDITOR = "auditor"  # reads everything, writes nothing
    READER = "reader"  # API consumer: balances and reports
    ADMIN = "admin"  # issues and revokes access tokens


@dataclass(frozen=True)
class Actor:
    user_id: str
    roles: frozenset[Role]

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
