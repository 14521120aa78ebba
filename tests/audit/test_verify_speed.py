"""`verify` streams the store and rehashes ~200k events fast (target ≥ 200,000 events/s).

Slow: the store is filled with synthetic rows shaped like the ledger's (real event bytes under
fresh ids), and the journal's links are written straight from the chain, without decoding.
"""

from __future__ import annotations

import os
import time
from uuid import uuid4

import pytest

from api.settings import Settings
from domain.ledger import FundLedger
from projections.database import ViewDatabase
from projections.hash_chain import GENESIS, extend
from projections.journal import JOURNAL_TABLE, JournalView, events_table_name, verify_journal
from tests.audit.conftest import build_small_bureau
from tests.conftest import TODAY

EVENTS = int(os.environ.get("FUNDLEDGER_VERIFY_EVENTS", "200000"))
BATCH = 10_000


def _fill(settings: Settings) -> ViewDatabase:
    ledger = FundLedger(env=settings.eventsourcing_env(), clock=lambda: TODAY)
    build_small_bureau(ledger)
    samples = ledger.recorder.select_notifications(start=1, limit=1000)
    ledger.close()
    db = ViewDatabase.open(settings)
    table = events_table_name(db)
    column = "notification_id" if db.is_postgres else "rowid"
    with db.transaction():
        db.execute(f"DELETE FROM {table}")
        JournalView().create_tables(db)
    previous = GENESIS
    position = 0
    while position < EVENTS:
        rows = []
        for _ in range(BATCH):
            position += 1
            sample = samples[position % len(samples)]
            rows.append((position, uuid4(), sample.originator_version, sample.topic, sample.state))
        stored = [(p, o.bytes, v, t, s) for p, o, v, t, s in rows]
        links = extend(previous, stored)
        previous = links[-1][1]
        with db.transaction():
            db.executemany(f"INSERT INTO {table} ({column}, originator_id, originator_version, topic, state) "
                           "VALUES (?, ?, ?, ?, ?)",
                           [(p, o if db.is_postgres else o.hex, v, t, s) for p, o, v, t, s in rows])
            db.executemany(f"INSERT INTO {JOURNAL_TABLE} (position, recorded_at, entity_type, entity_id, "
                           "entity_version, event, hash) VALUES (?, '2025-01-01', 'X', ?, ?, 'X.Y', ?)",
                           [(p, str(o), v, h.hex())
                            for (p, o, v, _t, _s), (_p, h) in zip(rows, links, strict=True)])
    return db


@pytest.mark.slow
def test_verify_rate(store_settings: Settings) -> None:
    db = _fill(store_settings)
    try:
        started = time.perf_counter()
        result = verify_journal(db)
        seconds = time.perf_counter() - started
        rate = result.checked / seconds
        print(f"\nverify on {db.dialect.name}: {result.checked} events in {seconds:.2f} s "
              f"= {rate:,.0f} events/s")
        assert result.ok
        assert result.checked == EVENTS
    finally:
        db.close()
