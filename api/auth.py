"""Who is calling: `Authorization: Bearer <token>` → the ledger's `authenticate`, then roles.

The ledger checks the role of every command itself; the API checks it again before reading
the body, so a caller without the role hears 403 whatever it sent, and readers are checked
here because reads are not ledger commands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State

from api.bureau_access import bureau_check, checked_at_once, home_is_open, token_home
from api.known_tokens import KnownTokens
from domain.actors import Actor, Role
from domain.errors import LedgerError, RoleNotAllowed, SchoolNotFound, UnknownToken
from domain.ledger import FundLedger
from domain.personal_data import is_personal_payment, mask_name

# Readers of balances and lists: everyone but the admin, who only manages tokens.
READ_ROLES = frozenset({Role.READER, Role.AUDITOR, Role.OFFICER, Role.APPROVER})

T = TypeVar("T")
_bearer = HTTPBearer(auto_error=False, description="A token from `fundledger users add`")


def ledger_of(request: Request) -> FundLedger:
    ledger: FundLedger = request.app.state.ledger
    return ledger


# Dependencies that do no I/O are `async`: FastAPI runs a plain `def` dependency in its thread
# pool, and each such hop cost more than the work itself (four hops per write, before).
async def current_ledger(request: Request) -> FundLedger:
    return ledger_of(request)


Ledger = Annotated[FundLedger, Depends(current_ledger)]


async def current_actor(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Actor:
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
    """The token is checked in its own bureau's books, then against this request's bureau
    (api/bureau_access.py); each on the event loop only when it reads nothing from the store."""
    home = (token_home(request, token) if home_is_open(request, token)
            else await run_in_threadpool(token_home, request, token))
    actor = await _actor_in_books(home, token)
    if checked_at_once(request, home):
        return bureau_check(request, home, actor)
    return await run_in_threadpool(bureau_check, request, home, actor)


async def _actor_in_books(state: State, token: str) -> Actor:
    ledger: FundLedger = state.ledger
    known: KnownTokens | None = state.known_tokens
    if known is None:
        return await run_in_threadpool(ledger.authenticate, token)
    remembered = known.remembered(token)
    if remembered is not None:
        return remembered
    return await run_in_threadpool(known.actor, token, ledger.authenticate)


def requires(*roles: Role) -> Callable[..., Actor]:
    """A dependency that lets through an actor holding any of `roles`."""
    allowed = frozenset(roles)

    # The caller is found here, not in a dependency of its own: FastAPI solves each dependency
    # of a request anew (its cache key, its parameters), ~20 µs a level on every request.
    async def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Actor:
        actor = await current_actor(request, credentials)
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


# ------------------------------------------------------------------ data scope (issue 14)
# One place for what a token may read beyond its roles: here the schools of a school-scoped
# reader. A supervisor's bureau scope (issue 15) belongs beside it.


def require_in_scope(actor: Actor, school: str, error: type[LedgerError], what: str) -> None:
    """Something of a school outside the actor's scope answers as a thing that does not exist
    (404, the same words as the books use): a scoped token cannot tell another school's code
    or record from a wrong one."""
    if not actor.sees_school(school):
        msg = f"{what} not found"
        raise error(msg)


def require_school(actor: Actor, code: str) -> None:
    require_in_scope(actor, code, SchoolNotFound, f"school {code}")


def require_unscoped(actor: Actor, error: type[LedgerError], what: str) -> None:
    """The bureau's own documents that span schools (pending changes, tranches, enrolment
    snapshots, post moves) are not a scoped token's to read: answered as not found."""
    if actor.schools is not None:
        msg = f"{what} not found"
        raise error(msg)


def scoped_school_filter(actor: Actor, asked: str | None) -> tuple[str | None, frozenset[str] | None]:
    """The school filter of a list read: `(school, schools)` for the views — the one school
    asked for, and the set the actor may see (None: every one). A school asked for outside
    the scope leaves an empty set: the list is empty, as for an unknown school."""
    if actor.schools is None:
        return asked, None
    if asked is not None:
        return asked, actor.schools & {asked}
    return None, actor.schools


def visible_payee(actor: Actor, payee: str, economic_class: str) -> str:
    """The payee as this actor may read it: a person paid personally (student aid, salaries)
    is masked for readers (张三 → 张*); officers, approvers and auditors see the name."""
    if actor.sees_personal_data or not is_personal_payment(economic_class):
        return payee
    return mask_name(payee)


def visible_to(actor: Actor, items: Iterable[T], school_of: Callable[[T], str | None]) -> list[T]:
    """The rows of a report the actor may see: a scoped token keeps its schools' rows and the
    rows of no school (a fund's own); every other school's row is left out silently."""
    if actor.schools is None:
        return list(items)
    return [item for item in items
            if (school := school_of(item)) is None or school in actor.schools]
