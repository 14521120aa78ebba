"""Whose books a token may read (issue 15): its own bureau's, and a supervisor's those of the
bureaus below it, read-only. Kept beside the role check of api/auth.py as its own step.

A token names its bureau (domain/access.py `new_token`); a token of the default bureau names
none. It is checked in its own bureau's books, then against the bureau the request is about:
the same bureau — as the token's roles allow; a bureau below it — only reading (reader and
auditor roles), and any write is 403 `supervisor_read_only`; any other bureau — 404
`bureau_not_found`, exactly as for a bureau that does not exist, so a token learns nothing
of bureaus that are not its own.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import Request
from starlette.datastructures import State

from domain.access import token_bureau
from domain.actors import Actor, Role
from domain.errors import BureauNotFound, SupervisorReadOnly, UnknownToken

SUPERVISOR_ROLES = frozenset({Role.READER, Role.AUDITOR})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
USERS_PATH = "/v1/users"  # a supervising bureau's admin still issues its own tokens


def token_home(request: Request, token: str) -> State:
    """The state of the bureau whose books hold `token` (opened on first use: call it off the
    event loop unless the bureau is open)."""
    state: State = request.app.state
    books: Any = getattr(state, "bureaus", None)
    if books is None:
        return state
    named = token_bureau(token) or books.default
    if named == getattr(state, "bureau", None):
        return state
    try:
        return books.state(named)
    except BureauNotFound:
        msg = "unknown or revoked token"
        raise UnknownToken(msg) from None


def home_is_open(request: Request, token: str) -> bool:
    books: Any = getattr(request.app.state, "bureaus", None)
    return books is None or books.is_open(token_bureau(token) or books.default)


def bureau_check(request: Request, home: State, actor: Actor) -> Actor:
    """The actor as the bureau of this request may see them (see the module's docstring)."""
    target = getattr(request.app.state, "bureau", None)
    books: Any = getattr(request.app.state, "bureaus", None)
    if books is None:
        return actor
    if home.bureau == target:
        if _writes_own_books(request) and not books.info(target).level.keeps_books:
            msg = (f"bureau {target} supervises and keeps no books of its own: nothing is "
                   "written to them (only its users are managed)")
            raise SupervisorReadOnly(msg)
        return actor
    if books.supervises(home.bureau, target):
        if request.method not in READ_METHODS:
            msg = (f"{actor.user_id} of bureau {home.bureau} supervises bureau {target}: "
                   "it reads these books and never writes them")
            raise SupervisorReadOnly(msg)
        # Fewer roles, the same data scope (a school-scoped reader stays scoped).
        return replace(actor, roles=actor.roles & SUPERVISOR_ROLES)
    msg = f"bureau {target} not found"
    raise BureauNotFound(msg)


def checked_at_once(request: Request, home: State) -> bool:
    """Whether `bureau_check` answers without reading the bureau registry. A write to the
    request's own books asks its bureau's level, read again (at most once a second) while
    the registry does not hold it, as for a default bureau never registered: a caller on
    the event loop then calls `bureau_check` in the thread pool (BureauBooks.answers_at_once)."""
    books: Any = getattr(request.app.state, "bureaus", None)
    target = getattr(request.app.state, "bureau", None)
    return (books is None or home.bureau != target or not _writes_own_books(request)
            or books.answers_at_once(target))


def _writes_own_books(request: Request) -> bool:
    """A write other than managing users: a supervising bureau, keeping no books, refuses it."""
    return request.method not in READ_METHODS and not request.url.path.startswith(USERS_PATH)


def bureau_actor(request: Request, token: str) -> Actor:
    """The same decision for a caller outside the API's dependencies (the dashboard), in a
    worker thread: the token checked in its own bureau's books, then against this request's."""
    home = token_home(request, token)
    known = getattr(home, "known_tokens", None)
    actor = (known.actor(token, home.ledger.authenticate) if known is not None
             else home.ledger.authenticate(token))
    return bureau_check(request, home, actor)
