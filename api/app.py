"""The HTTP API: `create_app(settings)` builds it; its lifespan opens the ledger, the views'
queries, the group commit and (optionally) the view runner, and closes them again."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Any

from fastapi import Depends, FastAPI

from api import problems
from api.bureau_books import BureauBooks, BureauScope
from api.committer_client import CommitterClient
from api.dashboard import bureaus as dashboard_bureaus
from api.dashboard import routes as dashboard
from api.dashboard import tranches as dashboard_tranches
from api.direct_command import direct_command
from api.export_jobs import ExportJobs
from api.known_tokens import KnownTokens
from api.metrics import Metrics, MetricsMiddleware
from api.middleware import BodySizeLimit, DashboardHeaders, LastResort, StoreBreaker, StoreOutage
from api.route_order import busiest_first
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
from api.store import open_ledger, open_views_reader
from api.strict_query import refuse_unknown_query
from domain.group_commit import GroupCommit
from domain.ledger import FundLedger, bureau_today
from projections.runner import ViewRunner

RUNNER_STOP_WAIT_SECONDS_MAX = 10.0


def create_app(settings: Settings | None = None, *, clock: Callable[[], date] = bureau_today,
               run_views: bool = True, group_commit: bool = True,
               ledger: FundLedger | None = None, committer_socket: str | None = None,
               direct_writes: bool = True) -> FastAPI:
    """The API over the configured store.

    `run_views` runs the view runner in a background thread of this process (one uvicorn
    worker); with several workers it runs as its own process instead. `group_commit` lets
    concurrent writes share one atomic save. With `committer_socket` the default bureau's
    commands are sent to the committer process listening there (api/committer.py), which
    decides and saves them for every worker. A `ledger` given by the caller is used as is and
    not closed (tests). `direct_writes` answers the common `POST /v1/expenditures` without
    FastAPI's parameter solving (api/direct_command.py; off only to compare the two).
    """
    settings = settings or Settings()

    open_services = _services_opener(lambda: app.state, settings, clock, run_views=run_views,
                                     group_commit=group_commit, committer_socket=committer_socket)

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
    dashboard.install(app)
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
    # Writes, balance reads and health checks are most of the requests a server answers.
    busiest_first(app, (expenditures.router, balances.router, system.router, allocations.router))
    app.state.direct_write = (direct_command(app, expenditures.router, "POST", "/v1/expenditures")
                              if direct_writes else None)
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
                     group_commit: bool,
                     committer_socket: str | None = None) -> Callable[..., Callable[[], None]]:
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
        state.queries = open_views_reader(books)
        state.group_commit = _writer(state.ledger, group_commit,
                                     committer_socket if state is app_state() else None)
        state.export_jobs = ExportJobs(books.views_reading(), state.queries)
        state.known_tokens = None
        state.views_progress = getattr(state, "views_progress", None) or ViewsProgress()
        state.metrics = getattr(app_state(), "metrics", None)
        state.store_outage = getattr(app_state(), "store_outage", None)
        state.bureaus = getattr(app_state(), "bureaus", None)
        if books.is_postgres and state is app_state():  # SQLite reads a token in-process
            state.known_tokens = KnownTokens(books, state.ledger.recorder.events_table_name)
            state.ledger.on_saved(state.known_tokens.forget_on_access_change)
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


def _writer(ledger: FundLedger, group_commit: bool,
            committer_socket: str | None) -> GroupCommit | CommitterClient | None:
    """Who saves this worker's commands: the committer process, this process's own group
    commit, or each request itself. (Other bureaus' books keep their own group commit.)"""
    if committer_socket is not None:
        return CommitterClient(committer_socket, ledger)
    return GroupCommit(ledger) if group_commit else None


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
