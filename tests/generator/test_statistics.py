"""A bulk load refreshes PostgreSQL's planner statistics of the event table itself: with
autovacuum off (as on the machines this is measured on) a never-analysed table of ~3 million
events was read with parallel scans and JIT, and the 10M generation fell to ~700 events/s."""

from __future__ import annotations

import psycopg
import pytest

from api.settings import Settings
from api.store import open_ledger
from scripts.generator import generate, office
from tests.generator.conftest import SEED, SMALL_SCALE


def _estimated_rows(settings: Settings, dsn: str) -> float:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT c.reltuples FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = 'fundledger_events'",
            (settings.postgres_schema,)).fetchone()
    assert row is not None
    return float(row[0])


@pytest.mark.postgres
def test_generating_a_year_leaves_the_event_table_analysed(
        postgres_settings: Settings, postgres_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(office, "STATISTICS_EVENTS_MIN", 1)  # a toy year is far below 100,000
    ledger = open_ledger(postgres_settings)
    try:
        assert _estimated_rows(postgres_settings, postgres_dsn) < 0  # never analysed
        generate(ledger, preset="xuzhou", seed=SEED, scale=SMALL_SCALE)
        events = ledger.last_position()
    finally:
        ledger.close()

    # Refreshed each time the log doubled: the last refresh saw at least half of it.
    assert _estimated_rows(postgres_settings, postgres_dsn) >= events / 2
