"""`fundledger rebuild` and `fundledger reconcile` on SQLite and PostgreSQL: a rebuild reports
its events/s; a reconcile of untouched views exits 0, and one view row changed behind the
runner's back is named and makes it exit 1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.settings import Settings
from domain.ledger import FundLedger
from projections.database import ViewDatabase
from projections.runner import ViewRunner
from tests.audit.conftest import build_small_bureau
from tests.conftest import TODAY
from tests.projections.conftest import dump


@pytest.fixture
def books(store_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[FundLedger]:
    """A small bureau on the store the CLI is pointed at, its views not yet built."""
    monkeypatch.setenv("FUNDLEDGER_DATABASE_URL", store_settings.database_url)
    monkeypatch.setenv("FUNDLEDGER_POSTGRES_SCHEMA", store_settings.postgres_schema)
    monkeypatch.setenv("FUNDLEDGER_POSTGRES_POOL_SIZE", "2")
    ledger = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    build_small_bureau(ledger)
    yield ledger
    ledger.close()


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def _tamper(settings: Settings, statement: str) -> None:
    db = ViewDatabase.open(settings)
    try:
        with db.transaction():
            db.execute(statement)
    finally:
        db.close()


def test_rebuild_reports_events_per_second_and_gives_the_live_rows(
        books: FundLedger, store_settings: Settings) -> None:
    with ViewRunner(store_settings, ledger=books, page_size=5) as runner:
        runner.run_until_caught_up()
        live = dump(runner.db)
    code, output = run("rebuild", "--page-size", "5")
    assert code == 0, output
    assert f"rebuilt views from {books.last_position():,} events" in output
    assert "events/s" in output
    with ViewRunner(store_settings, ledger=books) as runner:
        assert runner.position() == books.last_position()
        assert dump(runner.db) == live


@pytest.mark.parametrize("parts", ["1", "3"])
def test_rebuild_in_parts_gives_the_live_rows(books: FundLedger, store_settings: Settings,
                                               parts: str) -> None:
    """`--parts`: processes building the views at once (PostgreSQL; SQLite builds in one)."""
    with ViewRunner(store_settings, ledger=books, page_size=5) as runner:
        runner.run_until_caught_up()
        live = dump(runner.db)
    code, output = run("rebuild", "--parts", parts, "--page-size", "5")
    assert code == 0, output
    with ViewRunner(store_settings, ledger=books) as runner:
        assert runner.position() == books.last_position()
        assert runner.tracking.parts(runner.application_name) == {}
        assert dump(runner.db) == live


def test_rebuild_refuses_no_parts() -> None:
    code, output = run("rebuild", "--parts", "0")
    assert code == 2
    assert "--parts" in output


def test_rebuild_reports_progress_page_by_page(books: FundLedger, store_settings: Settings) -> None:
    seen: list[tuple[int, int]] = []
    with ViewRunner(store_settings, ledger=books, page_size=10) as runner:
        applied = runner.rebuild(lambda done, end: seen.append((done, end)))
    last = books.last_position()
    assert applied == last
    assert len(seen) == -(-last // 10)  # one report per page
    assert [done for done, _ in seen] == sorted({done for done, _ in seen})
    assert seen[-1] == (last, last)


def test_reconcile_of_untouched_views_exits_0(books: FundLedger) -> None:
    assert run("rebuild")[0] == 0
    code, output = run("reconcile")
    assert code == 0, output
    assert f"views reconcile with the replay up to position {books.last_position()}" in output


TAMPERING = [  # (what a forger with SQL access to the views does, what reconcile must name)
    ("UPDATE school_balances SET spent = spent + 1 WHERE school_code = 'XZ-PZ-0002' "
     "AND fund_code = 'RS-2025'", "school_balances XZ-PZ-0002/2025/RS-2025: view has"),
    ("UPDATE ledger_entries SET delta = delta - 100 WHERE school_code = 'XZ-PZ-0003' "
     "AND position = (SELECT MAX(position) FROM ledger_entries WHERE school_code = 'XZ-PZ-0003')",
     "ledger_entries (sums) XZ-PZ-0003/2025/PO-2025: view has"),
    ("DELETE FROM funds WHERE fund_code = 'PO-2025'", "funds PO-2025: missing"),
    ("UPDATE schools SET locale = 'urban' WHERE school_code = 'XZ-PZ-0002'",
     "schools XZ-PZ-0002: view has"),
]


def test_reconcile_names_each_tampered_view_row_and_exits_1(
        books: FundLedger, store_settings: Settings) -> None:
    assert run("rebuild")[0] == 0
    for statement, _ in TAMPERING:
        _tamper(store_settings, statement)
    code, output = run("reconcile")
    assert code == 1, output
    for _, named in TAMPERING:
        assert named in output
    assert f"{len(TAMPERING)} difference(s) between the views and the replay" in output
    # A rebuild puts the views right again.
    assert run("rebuild")[0] == 0
    assert run("reconcile")[0] == 0


def test_reconcile_exits_1_for_a_single_changed_amount(
        books: FundLedger, store_settings: Settings) -> None:
    assert run("rebuild")[0] == 0
    _tamper(store_settings, "UPDATE allocations SET spent = spent - 1 WHERE spent > 0 AND "
                            "allocation_id = (SELECT MIN(allocation_id) FROM allocations "
                            "WHERE spent > 0)")
    code, output = run("reconcile")
    assert code == 1, output
    assert "1 difference(s)" in output
