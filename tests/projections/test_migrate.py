"""`fundledger migrate`: upgrades the views' tables of an existing store in place, on SQLite and
PostgreSQL. A derived view whose layout changed is rebuilt from the event log and ends equal to
what it was; the journal is upgraded only by a named step (its rows are evidence), or migrate
refuses; a second run does nothing; a server refuses outdated views until migrated."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.settings import Settings
from domain.ledger import FundLedger
from projections import books, journal, view_schema
from projections.reconcile import reconcile
from projections.runner import ViewRunner
from tests.audit.conftest import build_small_bureau
from tests.conftest import TODAY
from tests.projections.conftest import dump

NEW_BOOKS_INDEX = "CREATE INDEX IF NOT EXISTS expenditures_by_payee ON expenditures (payee)"


@pytest.fixture
def built(store_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[FundLedger]:
    """A small bureau whose views are built, the CLI pointed at its store."""
    monkeypatch.setenv("FUNDLEDGER_DATABASE_URL", store_settings.database_url)
    monkeypatch.setenv("FUNDLEDGER_POSTGRES_SCHEMA", store_settings.postgres_schema)
    monkeypatch.setenv("FUNDLEDGER_POSTGRES_POOL_SIZE", "2")
    ledger = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    build_small_bureau(ledger)
    with ViewRunner(store_settings, ledger=ledger) as runner:
        runner.run_until_caught_up()
    yield ledger
    ledger.close()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_migrate_on_current_views_does_nothing(built: FundLedger) -> None:
    code, output = run("migrate")
    assert code == 0, output
    assert "nothing to do" in output


def test_a_changed_view_is_rebuilt_in_place_once(
        built: FundLedger, store_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    with ViewRunner(store_settings, ledger=built) as runner:
        before = dump(runner.db)
    # The view reads its statements from its class (page_view.OwnTables), not the module.
    monkeypatch.setattr(books.BooksView, "create_statements", [*books.CREATE_STATEMENTS, NEW_BOOKS_INDEX])
    with pytest.raises(view_schema.ViewsOutdated, match="fundledger migrate"):
        ViewRunner(store_settings, ledger=built)
    code, output = run("serve")
    assert code == 2 and "fundledger migrate" in output

    code, output = run("migrate")
    assert code == 0, output
    assert "rebuild BooksView from the event log" in output
    assert f"at position {built.last_position()}" in output
    code, output = run("migrate")
    assert code == 0 and "nothing to do" in output, output
    with ViewRunner(store_settings, ledger=built) as runner:
        assert dump(runner.db) == before
        assert reconcile(built, runner.db)[1] == []


def test_a_changed_journal_needs_a_step_and_keeps_its_rows(
        built: FundLedger, store_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    added = "ALTER TABLE audit_journal ADD COLUMN reviewed_by TEXT"
    with ViewRunner(store_settings, ledger=built) as runner:
        rows = runner.db.rows("SELECT position, hash FROM audit_journal ORDER BY position")
    # The release's new layout: a column more in the journal's CREATE TABLE.
    changed = [journal.CREATE_STATEMENTS[0].replace("hash TEXT NOT NULL", "hash TEXT NOT NULL, "
                                                    "reviewed_by TEXT"),
               *journal.CREATE_STATEMENTS[1:]]
    assert changed[0] != journal.CREATE_STATEMENTS[0]
    monkeypatch.setattr(journal.JournalView, "create_statements", changed)
    code, output = run("migrate")
    assert code == 2, output
    assert "no in-place step is known" in output

    before = view_schema.V0_1_0_FINGERPRINTS["JournalView"]
    monkeypatch.setitem(view_schema.JOURNAL_STEPS, ("JournalView", before), [added])
    code, output = run("migrate")
    assert code == 0, output
    assert "upgrade JournalView in place (1 statement(s))" in output
    assert "rebuilding" not in output
    with ViewRunner(store_settings, ledger=built) as runner:
        assert runner.db.rows("SELECT position, hash FROM audit_journal ORDER BY position") == rows
        assert runner.db.scalar("SELECT COUNT(reviewed_by) FROM audit_journal") == 0
    assert "nothing to do" in run("migrate")[1]
