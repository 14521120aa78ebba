"""Who is calling: `Authorization: Bearer <token>` → the ledger's `authenticate`, then roles.

The ledger checks the role of every command itself; the API checks it again before reading
the body, so a caller without the role hears 403 whatever it sent, and readers are checked
here because reads are not ledger commands.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.known_tokens import KnownTokens
from domain.actors import Actor, Role
from domain.errors import RoleNotAllowed, UnknownToken
from domain.ledger import FundLedger

# Readers of balances and lists: everyone but the admin, who only manages tokens.
READ_ROLES = frozenset({Role.READER, Role.AUDITOR, Role.OFFICER, Role.APPROVER})

_bearer = HTTPBearer(auto_error=False, description="A token from `fundledger users add`")


def ledger_of(request: Request) -> FundLedger:
    ledger: FundLedger = request.app.state.ledger
    return ledger


def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        msg = "an Authorization: Bearer <token> header is required"
        raise UnknownToken(msg)
    token = credentials.credentials.strip()
    ledger = ledger_of(request)
    known: KnownTokens | None = getattr(request.app.state, "known_tokens", None)
    return known.actor(token, ledger.authenticate) if known is not None else ledger.authenticate(token)


def requires(*roles: Role) -> Callable[..., Actor]:
    """A dependency that lets through an actor holding any of `roles`."""
    allowed = frozenset(roles)

    def check(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        if not actor.roles & allowed:
            held = ", ".join(sorted(actor.roles)) or "none"
            needed = " or ".join(sorted(allowed))
            msg = f"{actor.user_id} holds {held}; this needs {needed}"
            raise RoleNotAllowed(msg)
        return actor

    return check


Officer = Annotated[Actor, Depends(requires(Role.OFFICER))]
Approver = Annotated[Actor, Depends(requires(Role.APPROVER))]
Auditor = Annotated[Actor, Depends(requires(Role.AUDITOR))]
Reader = Annotated[Actor, Depends(requires(*READ_ROLES))]
