"""Opens the bureau's ledger, and the view runner that follows it, on the configured store:
the one composition root of both (which store, which recorder, which settings). A bureau other
than the configured default has books of its own (`Settings.for_bureau`): `bureau_settings`
makes its PostgreSQL schema when it is first opened."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import date
from functools import partial
from typing import Any

from api.settings import Settings
from domain.bureau_registry import BureauRegistry
from domain.ledger import FundLedger, bureau_today
from projections.database import postgres_connection
from projections.queries import BureauQueries
from projections.runner import ViewRunner, registered_views

REPLAYED_POLL_SECONDS = 0.02
BUREAU_ENV = "FUNDLEDGER_TOKEN_BUREAU"  # read by the ledger: the bureau its new tokens name


def open_ledger(settings: Settings, clock: Callable[[], date] = bureau_today, *,
                token_bureau: str | None = None, create_tables: bool = True) -> FundLedger:
    """The ledger of the books `settings` name; `token_bureau`: the bureau its new tokens
    name (any bureau but the server's default); `create_tables=False`: they exist already
    (Settings.eventsourcing_env)."""
    env = settings.eventsourcing_env(create_tables=create_tables)
    if token_bureau:
        env[BUREAU_ENV] = token_bureau
    return FundLedger(env=env, clock=clock)


def open_registry(settings: Settings) -> BureauRegistry:
    """The bureau registry, kept in the configured (default bureau's) store, in tables of its own."""
    return BureauRegistry(env=settings.eventsourcing_env())


def bureau_settings(settings: Settings, code: str) -> Settings:
    """The settings of bureau `code`'s books, its PostgreSQL schema made if it is new."""
    books = settings.for_bureau(code)
    if books is not settings and books.is_postgres and books.postgres_schema:
        from psycopg import sql  # noqa: PLC0415  (only PostgreSQL deployments load the driver)

        with postgres_connection(books.model_copy(update={"postgres_schema": ""}),
                                 "fundledger-bureau-schema") as connection:
            connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                sql.Identifier(books.postgres_schema)))
    return books


def open_bureau_ledger(settings: Settings, code: str,
                       clock: Callable[[], date] = bureau_today) -> FundLedger:
    """Bureau `code`'s ledger; a bureau other than the default names itself in its tokens."""
    books = bureau_settings(settings, code)
    return open_ledger(books, clock, token_bureau=None if books is settings else code)


def open_view_runner(settings: Settings, *, create_tables: bool = True, **options: Any) -> ViewRunner:
    """A view runner on its own ledger of the configured store, closed with it. `options` are
    ViewRunner's (views, page_size, check_schema)."""
    ledger = open_ledger(settings, create_tables=create_tables)
    try:
        return ViewRunner(settings, ledger=ledger, owns_ledger=True,
                          open_part=partial(open_view_part, settings), **options)
    except BaseException:
        ledger.close()
        raise


def open_view_part(settings: Settings, views: Sequence[str], part: str) -> ViewRunner:
    """In a worker process of a rebuild in parts: the runner of some of the views, moving the
    part's own tracking row (projections/view_parts.py)."""
    return open_view_runner(settings, views=registered_views(views), tracking_name=part,
                            check_schema=False, create_tables=False)


def open_views_reader(books: Settings) -> BureauQueries:
    """The views as a server reads them: on the streaming replica when one is configured
    (`Settings.views_read_url`), else beside the events. The tables are made on the primary
    first, and waited for on the replica (bounded), so that books never projected answer
    "nothing yet" there too."""
    queries = BureauQueries(books)
    if not books.reads_replica:
        return queries
    queries.close()
    replica = BureauQueries(books.views_reading(), standby=True)
    deadline = time.monotonic() + books.read_wait_seconds_max
    while not replica.views_made() and time.monotonic() < deadline:
        time.sleep(REPLAYED_POLL_SECONDS)
    return replica
