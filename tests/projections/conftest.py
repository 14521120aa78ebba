"""Helpers for the views' tests: a runner on a test store, and every view table as rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from api.settings import Settings
from domain.ledger import FundLedger
from projections.books import TABLES as BOOKS_TABLES
from projections.database import ViewDatabase
from projections.findings.facts import TABLES as FACTS_TABLES
from projections.journal import ENTITIES_TABLE, JOURNAL_TABLE
from projections.runner import ViewRunner
from tests.conftest import TODAY

# Every table of every view the runner keeps: books, the auditor's journal, the findings' facts.
VIEW_TABLES = (*BOOKS_TABLES, JOURNAL_TABLE, ENTITIES_TABLE, *FACTS_TABLES)


def dump(db: ViewDatabase) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every view table, in a stable order, with integers as integers."""
    tables = {}
    for table in VIEW_TABLES:
        rows = db.rows(f"SELECT * FROM {table}")
        tables[table] = sorted((tuple(int(v) if type(v).__name__ == "Decimal" else v for v in r)
                                for r in rows), key=repr)
    return tables


@pytest.fixture
def store_ledger(store_settings: Settings) -> Iterator[FundLedger]:
    app = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    yield app
    app.close()


@pytest.fixture
def runner(store_settings: Settings, store_ledger: FundLedger) -> Iterator[ViewRunner]:
    views = ViewRunner(store_settings, ledger=store_ledger, page_size=7)
    yield views
    views.close()
