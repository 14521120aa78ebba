"""The app the benchmark serves: `fundledger serve`'s app, with group commit switched by
FUNDLEDGER_GROUP_COMMIT (0 = one save per request) until Settings carries that switch itself."""

from __future__ import annotations

import os

from fastapi import FastAPI

from api.app import create_app
from api.committer import COMMITTER_SOCKET_ENV
from api.settings import Settings
from projections.garbage_collection import tune_collector

GROUP_COMMIT_ENV = "FUNDLEDGER_GROUP_COMMIT"
VIEWS_ENV = "FUNDLEDGER_BENCH_VIEWS"


def app() -> FastAPI:
    """One uvicorn worker's app; the view runner runs in it, as with `fundledger serve`, or
    in a process of its own; its commands go to the committer process when one is named."""
    app = create_app(Settings(), group_commit=os.environ.get(GROUP_COMMIT_ENV, "1") != "0",
                     run_views=os.environ.get(VIEWS_ENV, "1") != "0",
                     committer_socket=os.environ.get(COMMITTER_SOCKET_ENV))
    tune_collector()  # as `fundledger serve` does
    return app
