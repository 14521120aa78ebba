"""The record of a request taken under an idempotency key.

Saved in the same atomic write as the command's own events, so a repeat of the key
finds it (or loses the race on the store's uniqueness constraint and then finds it).
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import IdempotencyKeyReused
from domain.natural_keys import natural_id


def key_scope(actor_id: str, key: str) -> str:
    """Keys are scoped per user, so two clients cannot collide on the same key."""
    return f"{actor_id}\x1f{key}"


def id_from_key(kind: str, actor_id: str, key: str) -> UUID:
    """Ids of things a keyed request creates follow from the key (uuid5)."""
    return natural_id(kind, key_scope(actor_id, key))


class IdempotencyRecord(Aggregate):
    @staticmethod
    def id_for(actor_id: str, key: str) -> UUID:
        return id_from_key("request", actor_id, key)

    @event("Taken")
    def __init__(self, id: UUID, command: str, fingerprint: str,
                 results: list[tuple[UUID, int]]) -> None:
        self.command = command
        self.fingerprint = fingerprint
        self.results = results

    def check_same_request(self, command: str, fingerprint: str) -> None:
        if command != self.command or fingerprint != self.fingerprint:
            msg = (
                f"this idempotency key was used for a different {self.command} request; "
                "use a new key for a new request"
            )
            raise IdempotencyKeyReused(msg)
