"""Users and their access tokens. Tokens are random, shown once, and stored only as hashes.

A token's id follows from its hash, so authenticating is one read by id.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.natural_keys import KeyedAggregate, natural_id

TOKEN_BYTES = 32


TOKEN_PREFIX = "flt_"  # noqa: S105  (a prefix, not a secret)


def new_token(bureau: str | None = None) -> str:
    """A random token; one of a bureau other than the server's default names it before a '.'
    (the random part never holds one), so the server knows whose books authenticate it."""
    named = f"{bureau}." if bureau else ""
    return TOKEN_PREFIX + named + secrets.token_urlsafe(TOKEN_BYTES)


def token_bureau(token: str) -> str | None:
    """The bureau a token names, or None for a token of the server's default bureau."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    named, dot, _ = token[len(TOKEN_PREFIX):].rpartition(".")
    return named if dot and named else None


def token_hash(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough; no password stretching needed.
    return hashlib.sha256(token.encode()).hexdigest()


class AccessToken(Aggregate):
    @staticmethod
    def id_for_hash(hash_hex: str) -> UUID:
        return natural_id("token", hash_hex)

    @event("Issued")
    def __init__(self, id: UUID, user_name: str, roles: list[str], hash_hex: str) -> None:
        self.user_name = user_name
        self.roles = roles
        self.hash_hex = hash_hex
        self.revoked = False

    def matches(self, token: str) -> bool:
        return hmac.compare_digest(self.hash_hex, token_hash(token))

    @event("Revoked")
    def revoke(self) -> None:
        self.revoked = True


class UserAccount(KeyedAggregate):
    # The schools a user may read (issue 14); empty: every school. A class default, so users
    # written before scopes existed (no SchoolsScoped event) read as unscoped.
    schools: tuple[str, ...] = ()

    @staticmethod
    def id_for(name: str) -> UUID:
        return natural_id("user", name)

    @event("Added")
    def __init__(self, name: str, roles: list[str]) -> None:
        self.name = name
        self.roles = roles
        self.token_ids: list[UUID] = []

    @event("RolesSet")
    def set_roles(self, roles: list[str]) -> None:
        self.roles = roles

    @event("SchoolsScoped")
    def scope_to(self, schools: list[str]) -> None:
        self.schools = tuple(schools)

    @event("TokenIssued")
    def issue_token(self, token_id: UUID) -> None:
        self.token_ids.append(token_id)

    @event("TokensRevoked")
    def revoke_tokens(self) -> None:
        self.token_ids = []
