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
from starlette.concurrency import run_in_threadpool

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


# Dependencies that do no I/O are `async`: FastAPI runs a plain `def` dependency in its thread
# pool, and each such hop cost more than the work itself (four hops per write, before).
async def current_ledger(request: Request) -> FundLedger:
    return ledger_of(request)


Ledger = Annotated[FundLedger, Depends(current_ledger)]


async def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """A remembered token is answered here; any other is checked in the store, in the thread
    pool (a store read must not stall the event loop)."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        msg = "an Authorization: Bearer <token> header is required"
        raise UnknownToken(msg)
    return await _actor_of_token(request, credentials.credentials.strip())


async def actor_from_header(request: Request) -> Actor:
    """The caller, read from the Authorization header alone (when the body could not be read,
    the refusal of an unknown caller still comes first)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        msg = "an Authorization: Bearer <token> header is required"
        raise UnknownToken(msg)
    return await _actor_of_token(request, token.strip())


async def _actor_of_token(request: Request, token: str) -> Actor:
    ledger = ledger_of(request)
    known: KnownTokens | None = request.app.state.known_tokens
    if known is None:
        return await run_in_threadpool(ledger.authenticate, token)
    remembered = known.remembered(token)
    if remembered is not None:
        return remembered
    return await run_in_threadpool(known.actor, token, ledger.authenticate)


def requires(*roles: Role) -> Callable[..., Actor]:
    """A dependency that lets through an actor holding any of `roles`."""
    allowed = frozenset(roles)

    async def check(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        if not actor.roles & allowed:
            held = ", ".join(sorted(actor.roles)) or "none"
            needed = " or ".join(sorted(allowed))
            msg = f"{actor.user_id} holds {held}; this needs {needed}"
            raise RoleNotAllowed(msg)
        return actor

    check.allowed_roles = allowed  # type: ignore[attr-defined]  (read by api.problems)
    return check


Officer = Annotated[Actor, Depends(requires(Role.OFFICER))]
Approver = Annotated[Actor, Depends(requires(Role.APPROVER))]
Auditor = Annotated[Actor, Depends(requires(Role.AUDITOR))]
Reader = Annotated[Actor, Depends(requires(*READ_ROLES))]
Admin = Annotated[Actor, Depends(requires(Role.ADMIN))]
