"""`fundledger serve`: the HTTP API (uvicorn on uvloop + httptools) with the view runner beside
it. On PostgreSQL the views are kept by a process of their own (`fundledger project`, watched
and started again by the server, api/server_processes.py): on a 2-core machine a runner thread in
the worker took the interpreter between its requests (issue 21: one client's p50 2.9-3.7 ms
against 2.7 ms, 64 clients 860-870 writes/s against 1,085-1,105). With several workers, one
committer process (api/committer.py) also decides and saves every worker's commands. On SQLite,
and with `--views-in-server`, the runner is a thread of the one worker. (`fundledger demo`,
which generates a year first, lives in scripts/demo.py: api/ never imports scripts/.)"""

from __future__ import annotations

import copy
import logging
import os
import signal
from typing import TYPE_CHECKING, Annotated, Any

import typer

from api.cli.errors import cli_command
from api.settings import Settings
from api.store import open_ledger, open_registry, open_view_runner

if TYPE_CHECKING:
    from fastapi import FastAPI

# Set for the workers of a multi-worker server, whose views are kept by a separate process.
RUNNER_ELSEWHERE_ENV = "FUNDLEDGER_VIEWS_RUN_ELSEWHERE"
WORKERS_MAX = 64
KEEP_ALIVE_SECONDS = 5
# With several workers, uvicorn's supervisor kills a worker that does not answer its ping within
# this (its default: 5 s). Raised as a margin for a busy worker on a loaded 2-core machine; the
# connection resets first blamed on it (CI and bench, 2026-12-03) were the workers' start-up
# race to create tables (TABLE_CREATION_LOCK), not a missed ping.
WORKER_PING_SECONDS = 30

Host = Annotated[str, typer.Option(help="Interface to listen on")]
Port = Annotated[int, typer.Option(min=1, max=65535, help="TCP port")]
Workers = Annotated[int, typer.Option(min=1, max=WORKERS_MAX, help="uvicorn worker processes")]
ViewsLayout = Annotated[bool, typer.Option(
    "--views-process/--views-in-server",
    help="PostgreSQL, one worker: keep the views in a process of their own (the default) or in "
         "a thread of the worker. SQLite keeps them in the worker; several workers, in a "
         "process")]


def app_from_environment() -> FastAPI:
    """The app of one uvicorn worker, configured from the environment."""
    from api.app import create_app  # noqa: PLC0415  (`fundledger --help` need not load the app)
    from api.committer import COMMITTER_SOCKET_ENV  # noqa: PLC0415
    from projections.garbage_collection import tune_collector  # noqa: PLC0415

    app = create_app(Settings(), run_views=os.environ.get(RUNNER_ELSEWHERE_ENV) != "1",
                     committer_socket=os.environ.get(COMMITTER_SOCKET_ENV))
    tune_collector()
    return app


class QueryStringsDropped(logging.Filter):
    """The access log shows paths without their query strings: a query may hold a secret
    (`?access_token=…` is refused, but it was written to the log)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration, with query strings kept out of the access log."""
    import uvicorn.config  # noqa: PLC0415  (only the server needs it)

    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config.setdefault("filters", {})["query_strings_dropped"] = {
        "()": "api.cli.server.QueryStringsDropped"}
    config["handlers"]["access"]["filters"] = ["query_strings_dropped"]
    return config


def server_options(host: str, port: int) -> dict[str, Any]:
    """uvicorn's options for `serve`: httptools with the header and body read deadlines of
    api/read_timeouts.py (uvicorn has none of its own), idle keep-alive closed after
    KEEP_ALIVE_SECONDS, query strings kept out of the access log."""
    from api.read_timeouts import PROTOCOL  # noqa: PLC0415  (imports uvicorn)

    return {"host": host, "port": port, "loop": "uvloop", "http": PROTOCOL,
            "log_level": "info", "proxy_headers": False, "log_config": log_config(),
            "timeout_keep_alive": KEEP_ALIVE_SECONDS,
            "timeout_worker_healthcheck": WORKER_PING_SECONDS}


def run_server(host: str, port: int, workers: int, *, views_process: bool = True) -> None:
    # uvloop + httptools: with several workers the plain asyncio loop has a flat ~44 ms
    # latency floor on this kind of machine (reference/baselines.md). An idle keep-alive
    # connection is closed after KEEP_ALIVE_SECONDS.
    import uvicorn  # noqa: PLC0415

    options = server_options(host, port)
    settings = Settings()
    # Kept by another service already (docs/deployment.md: fundledger-views.service)?
    kept_elsewhere = os.environ.get(RUNNER_ELSEWHERE_ENV) == "1"
    if workers == 1 and (kept_elsewhere or not (views_process and settings.is_postgres)):
        uvicorn.run(app_from_environment(), **options)  # type: ignore[arg-type]
        return
    _create_tables(settings)
    from api.committer import COMMITTER_SOCKET_ENV, CommitterProcess  # noqa: PLC0415
    from api.server_processes import ViewsProcess  # noqa: PLC0415

    # With several workers, one committer decides and saves every worker's commands (one
    # writer, one group commit whose batches see every worker's requests).
    committer = (CommitterProcess(give_up=lambda: os.kill(os.getpid(), signal.SIGTERM))
                 if workers > 1 else None)
    views = None if kept_elsewhere else ViewsProcess()
    os.environ[RUNNER_ELSEWHERE_ENV] = "1"
    try:
        if committer is None:
            uvicorn.run(app_from_environment(), **options)  # type: ignore[arg-type]
        else:
            os.environ[COMMITTER_SOCKET_ENV] = committer.socket_path
            uvicorn.run("api.cli.server:app_from_environment", factory=True, workers=workers,
                        **options)  # type: ignore[arg-type]
    finally:
        if views is not None:
            views.stop()
        if committer is not None:
            committer.stop()


def _create_tables(settings: Settings) -> None:
    """Creates the store's tables once, before several workers would race to create them
    (two at once are refused by PostgreSQL, and the refused worker's start-up failure stops
    the whole server): the ledger's, the bureau registry's (every worker opens it) and the
    views'."""
    open_ledger(settings).close()
    open_registry(settings).close()
    from projections.queries import BureauQueries  # noqa: PLC0415 — creates the views' tables

    BureauQueries(settings).close()


@cli_command
def serve(host: Host = "127.0.0.1", port: Port = 8000, workers: Workers = 1,
          views_process: ViewsLayout = True) -> None:
    """Serve the HTTP API (and keep the views up to date) on the configured store."""
    settings = Settings()  # a bad configuration is one line before uvicorn starts
    _require_current_views(settings)
    _require_the_key_on_record(settings)
    run_server(host, port, workers, views_process=views_process)


def _require_current_views(settings: Settings) -> None:
    """An upgraded server meeting views an earlier release built stops here, with one line
    saying to run `fundledger migrate`, rather than in a worker's start-up."""
    open_view_runner(settings).close()


def _require_the_key_on_record(settings: Settings) -> None:
    """A server with another signing key than the bureau's on record stops here, with one
    line saying to restore the key or record a rotation (api/signing_guard.py)."""
    from api.signing_guard import check_signing_key  # noqa: PLC0415
    from projections.database import ViewDatabase  # noqa: PLC0415

    ledger = open_ledger(settings)
    db = ViewDatabase.open(settings)
    try:
        check_signing_key(settings, ledger, db)
    finally:
        db.close()
        ledger.close()


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
