"""The audit-facts view and every rule give the same findings on PostgreSQL as on SQLite."""

from __future__ import annotations

import pytest

from api.settings import Settings
from projections.database import ViewDatabase
from projections.findings.facts import catch_up
from projections.findings.registry import run_findings
from projections.findings.rule import Scope
from scripts.anomalies import inject
from tests.findings.conftest import Bureau


@pytest.mark.postgres
def test_findings_on_postgresql_equal_findings_on_sqlite(bureau: Bureau, postgres_settings: Settings) -> None:
    inject(bureau.ledger, 2025, seed=3)
    session = ViewDatabase.open(postgres_settings)
    try:
        catch_up(session, bureau.ledger, page_size=7)  # small pages: many transactions
        catch_up(session, bureau.ledger)  # nothing new: applies nothing twice
        on_postgres = run_findings(session, Scope.year_end(2025))
    finally:
        session.close()
    on_sqlite = bureau.all_findings()
    assert len(on_sqlite) > 10
    assert on_postgres == on_sqlite
