"""The books of every bureau this server serves, opened when first asked for (issue 15).

The configured store holds the default bureau's books and the bureau registry; every other
registered bureau has books of its own (api/settings.py `Settings.for_bureau`). Each bureau's
books are served through a `State` like the app's own — its settings, ledger, views' queries,
group commit, export jobs and view runner — so that every route, reading
`request.app.state`, works unchanged on whichever bureau `BureauScope` resolved for the
request. Nothing is copied between bureaus: a supervisor's report reads each child's views.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State
from starlette.types import Receive, Scope, Send

from api import problems
from api.consolidated import ChildReports
from api.middleware import HttpLayer
from api.reads import ASKED_PATH
from api.settings import Settings
from api.store import bureau_settings, open_registry
from domain.access import token_bureau
from domain.bureau_registry import BureauDirectory, BureauInfo, BureauLevel
from domain.errors import BureauNotFound
from projections.view_schema import ViewsOutdated

log = logging.getLogger("fundledger.api")

# How often an unknown code makes the server read the registry again (a bureau added by the
# CLI meanwhile): a stream of unknown codes costs one registry read a second at most.
DIRECTORY_REFRESH_SECONDS_MIN = 1.0
BUREAU_PATH = re.compile(r"^/v1/bureaus/(?P<code>[^/]+)(?P<rest>/.*)?$")
BUREAU_COOKIE = "fundledger_bureau"
# Paths under /v1/bureaus/{bureau} that are about the bureau itself (api/routes/bureaus.py);
# every other one is the bureau's /v1 path: /v1/bureaus/{bureau}/schools is its /v1/schools.
SUPERVISOR_PATHS = frozenset({"/reports/consolidated", "/reports/findings"})


# Opens a bureau's services on a state (ledger, queries, …); returns how to close them.
OpenServices = Callable[[State, Settings], Callable[[], None]]


class BureauBooks:
    """Every bureau's `State`, the default's being the app's own."""

    def __init__(self, settings: Settings, home: State, open_services: OpenServices) -> None:
        self.settings = settings
        self.default = settings.bureau
        self._open_services = open_services
        self._registry = open_registry(settings)
        self._directory = self._registry.directory()
        self._read_at = time.monotonic()
        self._states: dict[str, State] = {self.default: home}
        self._closers: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        # Children's reads for consolidated reports, kept by the position read (issue 15).
        self.child_reports = ChildReports()
        home.bureau = self.default

    # ----------------------------------------------------------------- registry

    def directory(self) -> BureauDirectory:
        return self._directory

    def info(self, code: str) -> BureauInfo:
        """A registered bureau, or the default one (a county-level bureau of no parent until
        it is registered)."""
        if code not in self._directory:
            self._refresh()
        if code in self._directory:
            return self._directory.get(code)
        if code == self.default:
            return BureauInfo(code, code, BureauLevel.COUNTY, None)
        msg = f"bureau {code} not found"
        raise BureauNotFound(msg)

    def answers_at_once(self, code: str) -> bool:
        """Whether `info(code)` and `known(code)` answer from the directory in memory, without
        reading the registry. A caller on the event loop asks this first and else calls them
        in the thread pool: while the store is down a read waits out the library's retries
        (seconds), and on the loop every other request waited with it, the store breaker's
        503s included."""
        return code in self._directory or \
            time.monotonic() - self._read_at < DIRECTORY_REFRESH_SECONDS_MIN

    def known(self, code: str) -> bool:
        try:
            self.info(code)
        except BureauNotFound:
            return False
        return True

    def _refresh(self) -> None:
        if time.monotonic() - self._read_at < DIRECTORY_REFRESH_SECONDS_MIN:
            return
        with self._lock:
            self._directory = self._registry.directory()
            self._read_at = time.monotonic()

    def supervises(self, supervisor: str, bureau: str) -> bool:
        return self._directory.supervises(supervisor, bureau)

    # ------------------------------------------------------------------- books

    def is_open(self, code: str) -> bool:
        return code in self._states

    def state(self, code: str) -> State:
        """Bureau `code`'s state, its books opened on first use (BureauNotFound if unknown)."""
        found = self._states.get(code)
        if found is not None:
            return found
        self.info(code)
        with self._lock:
            found = self._states.get(code)
            if found is None:
                found = State()
                found.bureau = code
                self._closers.append(self._open_services(found, bureau_settings(self.settings, code)))
                self._states[code] = found
        return found

    def close(self) -> None:
        with self._lock:
            for close in reversed(self._closers):
                try:
                    close()
                except Exception:  # one bureau failing to close must not keep the others open
                    log.exception("closing a bureau's books failed")
            self._closers.clear()
            self._registry.close()


class BureauApp:
    """The app as a request of one bureau sees it: the same app, with that bureau's state."""

    def __init__(self, app: Any, state: State) -> None:
        self._app = app
        self.state = state

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


def bureau_of_request(books: BureauBooks, path: str, headers: dict[bytes, bytes]) -> str:
    """Which bureau a request is about: the one in its path (/v1/bureaus/{code}/…); on the
    dashboard the one the user stepped into; else the one its token names; else the default."""
    matched = BUREAU_PATH.match(path)
    if matched is not None:
        return matched.group("code")
    return next((code for code in _named_elsewhere(path, headers) if books.known(code)),
                books.default)


def _named_elsewhere(path: str, headers: dict[bytes, bytes]) -> list[str]:
    """The bureaus a request whose path names none may be about, in the order they count
    (each only if registered): on the dashboard the one the user stepped into, then the one
    its token names."""
    if path.startswith("/dashboard"):
        chosen = _cookie(headers, BUREAU_COOKIE)
        named = [chosen] if chosen else []
        token = _cookie(headers, "fundledger_token")
    else:
        named, token = [], _bearer(headers)
    bureau = token_bureau(token) if token else None
    return [*named, bureau] if bureau else named


def _resolved_at_once(books: BureauBooks, path: str, headers: dict[bytes, bytes]) -> bool:
    """Whether `bureau_of_request` answers without reading the registry (BureauBooks.answers_at_once)."""
    return BUREAU_PATH.match(path) is not None or all(
        books.answers_at_once(code) for code in _named_elsewhere(path, headers))


def _bearer(headers: dict[bytes, bytes]) -> str:
    scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _may_see(books: BureauBooks, token: str, code: str) -> bool:
    """Whether the bureau a token names is `code` or above it (api/bureau_access.py checks
    it again once the token is authenticated). No token: the route will ask for one."""
    if not token:
        return True
    named = token_bureau(token) or books.default
    return named == code or books.supervises(named, code)


def _cookie(headers: dict[bytes, bytes], name: str) -> str:
    for part in headers.get(b"cookie", b"").decode("latin-1").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value.strip('"')
    return ""


def _books(scope: Scope) -> BureauBooks | None:
    """The app's bureaus' books (None when it serves one bureau's books only)."""
    return getattr(scope["app"].state, "bureaus", None)


class BureauScope(HttpLayer):
    """Resolves each request's bureau once and hands the routes that bureau's state as
    `request.app.state`; an unknown bureau in the path is 404 before anything else runs.
    /v1/bureaus/{bureau}/X is served by the route of /v1/X (so every route module serves
    every bureau unchanged); links in answers keep the path asked for (`asked_path`)."""

    def applies(self, scope: Scope) -> bool:
        return _books(scope) is not None

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        books = _books(scope)
        assert books is not None
        headers = dict(scope.get("headers") or [])
        path = scope.get("path", "")
        code = (bureau_of_request(books, path, headers) if _resolved_at_once(books, path, headers)
                else await run_in_threadpool(bureau_of_request, books, path, headers))
        if not _may_see(books, _bearer(headers), code):
            # Before anything else (query checks, bodies): another bureau's token learns
            # nothing of this one, not even which parameters its paths take.
            response = problems.api_problem("bureau_not_found", f"bureau {code} not found")
            await response(scope, receive, send)
            return
        if code != books.default:
            try:
                state = (books.state(code) if books.is_open(code)
                         else await run_in_threadpool(books.state, code))
            except BureauNotFound as error:
                response = problems.api_problem("bureau_not_found", error.detail)
                await response(scope, receive, send)
                return
            except ViewsOutdated as error:
                # Its views were built by an earlier release: say so, not a 500.
                log.warning("bureau %s not opened: %s", code, error)
                response = problems.api_problem(
                    "views_behind", f"bureau {code}'s views need migrating: {error}")
                await response(scope, receive, send)
                return
            scope["app"] = BureauApp(scope["app"], state)
        matched = BUREAU_PATH.match(scope.get("path", ""))
        rest = matched.group("rest") if matched is not None else None
        if rest is not None and rest not in SUPERVISOR_PATHS:
            scope = {**scope, ASKED_PATH: scope["path"], "path": "/v1" + rest,
                     "raw_path": ("/v1" + rest).encode()}
        await self.app(scope, receive, send)
