"""The HTTP API: `create_app(settings)` builds it; its lifespan opens the ledger, the views'
queries, the group commit and (optionally) the view runner, and closes them again."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Any

import psycopg
from fastapi import Depends, FastAPI
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import problems
from api.bureau_books import BureauBooks, BureauScope
from api.dashboard import bureaus as dashboard_bureaus
from api.dashboard import routes as dashboard
from api.dashboard import tranches as dashboard_tranches
from api.export_jobs import ExportJobs
from api.known_tokens import KnownTokens
from api.metrics import Metrics, MetricsMiddleware
from api.routes import (
    allocations,
    assets,
    audit,
    balanced_development,
    balances,
    changes,
    enrolment_snapshots,
    expenditures,
    findings,
    funding_standards,
    funds,
    imports,
    periods,
    posts,
    schools,
    system,
    tranches,
    users,
    year_end,
)
from api.routes import bureaus as bureau_reports
from api.routes.system import ViewsProgress
from api.schemas import PROBLEM_RESPONSES
from api.settings import Settings
from api.store import open_ledger
from api.strict_query import refuse_unknown_query
from domain.group_commit import GroupCommit
from domain.ledger import FundLedger, bureau_today
from projections.database import postgres_connection
from projections.queries import BureauQueries
from projections.runner import ViewRunner

log = logging.getLogger("fundledger.api")
RUNNER_STOP_WAIT_SECONDS_MAX = 10.0
STORE_WATCH_EVERY_SECONDS = 0.5
STORE_WATCH_CONNECT_SECONDS = 2
STORE_WATCH_STOP_SECONDS_MAX = 5.0
UNAUTHENTICATED_BODY_BYTES_MAX = 64 * 1024


def create_app(settings: Settings | None = None, *, clock: Callable[[], date] = bureau_today,
               run_views: bool = True, group_commit: bool = True,
               ledger: FundLedger | None = None) -> FastAPI:
    """The API over the configured store.

    `run_views` runs the view runner in a background thread of this process (one uvicorn
    worker); with several workers it runs as its own process instead. `group_commit` lets
    concurrent writes share one atomic save. A `ledger` given by the caller is used as is and
    not closed (tests).
    """
    settings = settings or Settings()

    open_services = _services_opener(lambda: app.state, settings, clock, run_views=run_views,
                                     group_commit=group_commit)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.bureau = settings.bureau
        close_home = open_services(app.state, settings, ledger)
        app.state.bureaus = BureauBooks(settings, app.state, open_services)
        app.state.store_outage.start()
        try:
            yield
        finally:
            app.state.bureaus.close()
            app.state.store_outage.stop()
            close_home()
            app.state.bureaus = None

    app = FastAPI(
        title="fundledger",
        version="1",
        summary="An education bureau's funds: schools, funds, allocations, expenditures, balances.",
        description="Amounts are integers in the unit's minor unit (fen for CNY). Errors are "
                    "RFC 9457 problem details. See docs/api.md.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.ledger = ledger
    app.state.queries = None
    app.state.group_commit = None
    app.state.known_tokens = None
    app.state.export_jobs = None
    app.state.view_runner = None
    app.state.views_progress = ViewsProgress()
    app.state.bureaus = None
    problems.install(app)
    for router in (schools.router, funds.router, allocations.router, changes.router,
                   expenditures.router, balances.router, findings.router, imports.router,
                   funding_standards.router, enrolment_snapshots.router, tranches.router,
                   users.router, posts.router, assets.router, balanced_development.router,
                   audit.router, year_end.router, periods.router, bureau_reports.moves):
        app.include_router(router, responses=PROBLEM_RESPONSES,
                           dependencies=[Depends(refuse_unknown_query)])
    app.include_router(bureau_reports.router, responses=PROBLEM_RESPONSES,
                       dependencies=[Depends(refuse_unknown_query)])
    app.include_router(system.router)
    app.include_router(dashboard_tranches.router)
    app.include_router(dashboard_bureaus.router)
    app.include_router(dashboard.router)
    metrics = Metrics(lambda: _positions(app), lambda: _integrity_counts(app))
    app.state.metrics = metrics
    # Outermost first: metrics see every answer, including the last resort's 500 and the 413.
    app.add_middleware(BodySizeLimit, body_bytes_max=settings.request_body_bytes_max)
    app.add_middleware(BureauScope)  # inside the breaker and the last resort: it may open books
    app.state.store_outage = StoreOutage(settings)
    app.add_middleware(StoreBreaker, outage=app.state.store_outage)
    app.add_middleware(LastResort)
    app.add_middleware(DashboardHeaders)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app


def _services_opener(app_state: Callable[[], Any], settings: Settings,
                     clock: Callable[[], date], *, run_views: bool,
                     group_commit: bool) -> Callable[..., Callable[[], None]]:
    """How one bureau's services are opened on a state (the app's own for the default
    bureau, api.bureau_books's for the others)."""

    def open_services(state: Any, books: Settings, given: FundLedger | None = None) -> Callable[[], None]:
        """Opens one bureau's services on `state`; returns how to close them again."""
        state.settings = books
        state.ledger = given or open_ledger(
            books, clock, token_bureau=None if books is settings else state.bureau)
        state.view_runner = None
        try:  # the runner first: views an earlier release built refuse to open (ViewsOutdated)
            runner = _start_view_runner(books, state.ledger, state) if run_views else None
        except BaseException:
            if given is None:
                state.ledger.close()
            raise
        state.queries = BureauQueries(books)
        state.group_commit = GroupCommit(state.ledger) if group_commit else None
        state.export_jobs = ExportJobs(books, state.queries)
        state.known_tokens = None
        state.views_progress = getattr(state, "views_progress", None) or ViewsProgress()
        state.metrics = getattr(app_state(), "metrics", None)
        state.store_outage = getattr(app_state(), "store_outage", None)
        state.bureaus = getattr(app_state(), "bureaus", None)
        if books.is_postgres and state is app_state():  # SQLite reads a token in-process
            state.known_tokens = KnownTokens(books, state.ledger.recorder.events_table_name)
            state.known_tokens.start()

        def close() -> None:
            if state.known_tokens is not None:
                state.known_tokens.stop()
            state.export_jobs.close()
            if runner is not None:
                runner()
            if state.group_commit is not None:
                state.group_commit.close()
            _close(state.queries)
            if given is None:
                state.ledger.close()

        return close

    return open_services


def _start_view_runner(settings: Settings, ledger: FundLedger,
                       state: Any = None) -> Callable[[], None] | None:
    """Starts the view runner in a daemon thread of this process; returns how to stop it."""
    runner = ViewRunner(settings, ledger=ledger)
    if state is not None:
        state.view_runner = runner  # /healthz reads its failures
    stop = threading.Event()
    thread = threading.Thread(target=runner.run_forever, args=(stop,), name="view-runner",
                              daemon=True)
    thread.start()

    def stop_runner() -> None:
        stop.set()
        thread.join(RUNNER_STOP_WAIT_SECONDS_MAX)
        _close(runner)

    return stop_runner


def _close(resource: Any) -> None:
    close = getattr(resource, "close", None)
    if callable(close):
        close()


def _integrity_counts(app: FastAPI) -> tuple[int, int]:
    ledger = app.state.ledger
    rejected = getattr(getattr(ledger, "snapshots", None), "rejected", 0) if ledger else 0
    runner = app.state.view_runner
    return int(rejected), int(runner.failures if runner is not None else 0)


def _positions(app: FastAPI) -> tuple[int, int | None]:
    ledger: FundLedger | None = app.state.ledger
    if ledger is None:
        return 0, None
    queries = app.state.queries
    return ledger.last_position(), (queries.position() if queries is not None else None)


# Every dashboard answer (issue 14): no inline or foreign script, styles from the server (and
# the inline styles pygal's SVG carries), no framing, forms only to the dashboard itself.
DASHBOARD_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                 "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                 "frame-ancestors 'none'; form-action 'self'")


class DashboardHeaders:
    """Adds Content-Security-Policy, X-Content-Type-Options: nosniff and a content type (when
    an answer has none) to every answer under /dashboard."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith("/dashboard"):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in (b"content-security-policy",
                                                b"x-content-type-options")]
                if not any(k.lower() == b"content-type" for k, _ in headers):
                    headers.append((b"content-type", b"text/plain; charset=utf-8"))
                headers += [(b"content-security-policy", DASHBOARD_CSP.encode()),
                            (b"x-content-type-options", b"nosniff")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodySizeLimit:
    """Refuses a body above `Settings.request_body_bytes_max` with 413, whether it announces
    its length or streams in chunks."""

    def __init__(self, app: ASGIApp, body_bytes_max: int) -> None:
        self.app = app
        self.body_bytes_max = body_bytes_max

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        # A request with no credentials at all may send little (issue 14): it will be refused
        # 401 anyway, or it is a login form.
        credentialed = b"authorization" in headers or b"fundledger_token=" in headers.get(b"cookie", b"")
        bytes_max = self.body_bytes_max if credentialed else min(self.body_bytes_max,
                                                                 UNAUTHENTICATED_BODY_BYTES_MAX)
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > bytes_max):
            response = problems.api_problem(
                "body_too_large", f"the body may be at most {bytes_max} bytes")
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > bytes_max:
                    msg = f"the body may be at most {bytes_max} bytes"
                    raise HTTPException(413, msg)
            return message

        await self.app(scope, counting_receive, send)


class StoreOutage:
    """Whether the store is down, as a watch thread sees it: one connection of its own that
    asks `SELECT 1` every `watch_every_seconds` (and reconnects when it fails). A request
    that meets a store failure marks it down too; the watch's next success clears it.
    SQLite, a file of this process, is never down this way."""

    def __init__(self, settings: Settings,
                 watch_every_seconds: float = STORE_WATCH_EVERY_SECONDS) -> None:
        self.settings = settings
        self.watch_every_seconds = watch_every_seconds
        self.down = False
        self.trips = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def trip(self) -> None:
        if not self.down:
            self.trips += 1
        self.down = True

    def start(self) -> None:
        if self.settings.is_postgres:
            self._thread = threading.Thread(target=self._watch, name="store-watch", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(STORE_WATCH_STOP_SECONDS_MAX)

    def _watch(self) -> None:
        connection: psycopg.Connection[Any] | None = None
        while not self._stop.wait(self.watch_every_seconds):
            try:
                if connection is None or connection.closed:
                    connection = postgres_connection(self.settings, "fundledger-store-watch",
                                                     STORE_WATCH_CONNECT_SECONDS)
                connection.execute("SELECT 1")
            except psycopg.Error:
                if connection is not None:
                    connection.close()
                connection = None
                self.trip()
                continue
            self.down = False
        if connection is not None:
            connection.close()


class StoreBreaker:
    """While the store is down, answers 503 at once, instead of letting each request wait out
    the driver's connection retries (the eventsourcing library retries ten times, each waiting
    for a pool connection): clients hear "retry shortly" while it is down, and requests go
    through again as soon as the watch sees it back."""

    def __init__(self, app: ASGIApp, outage: StoreOutage) -> None:
        self.app = app
        self.outage = outage

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.outage.down:
            response = problems.api_problem(
                "store_unavailable", "the event store did not answer; retry shortly",
                headers={"Retry-After": str(problems.STORE_RETRY_AFTER_SECONDS)})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class LastResort:
    """An unexpected exception becomes a 500 problem without its stack trace; the trace goes
    to the log. A store that does not answer becomes 503."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def noting_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, noting_send)
        except Exception as error:
            if started:
                raise
            if problems.is_store_unavailable(error):
                response = problems.store_unavailable_problem(error, scope.get("app"))
            else:
                log.exception("unexpected error answering %s %s", scope.get("method"),
                              scope.get("path"))
                response = problems.api_problem("internal_error",
                                                "the request failed; the error has been logged")
            await response(scope, receive, send)
