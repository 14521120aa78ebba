"""Replay as of a date equals the stored views' as-of queries, across a generated year."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from api.settings import Settings
from domain.ledger import FundLedger
from projections.queries import BureauQueries
from projections.replay import differences, replay
from projections.runner import ViewRunner
from tests.audit.year import generate_year
from tests.conftest import TODAY

YEAR = 2025
DATES = [date(YEAR, month, day) for month, day in ((1, 1), (1, 20), (3, 31), (6, 30), (8, 15),
                                                   (10, 1), (11, 30), (12, 31))]


@pytest.fixture
def year_store(store_settings: Settings) -> Iterator[tuple[FundLedger, BureauQueries]]:
    ledger = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    generate_year(ledger)
    with ViewRunner(store_settings, ledger=ledger) as runner:
        runner.run_until_caught_up()
    queries = BureauQueries(store_settings)
    yield ledger, queries
    queries.close()
    ledger.close()


def test_replay_as_of_each_date_equals_the_views(year_store: tuple[FundLedger, BureauQueries]) -> None:
    ledger, queries = year_store
    totals = set()
    for day in DATES:
        books = replay(ledger, as_of=day)
        assert differences(books, queries, YEAR) == [], day
        totals.add(sum(b.allocated for b in books.balances.values()))
    assert len(totals) > 4  # the dates see different books: the comparison was not vacuous


def test_replay_as_of_a_position_equals_the_views(year_store: tuple[FundLedger, BureauQueries]) -> None:
    ledger, queries = year_store
    last = ledger.recorder.max_notification_id()
    for position in (last // 4, last // 2, last - 1):
        books = replay(ledger, position=position)
        assert books.position == position
        assert differences(books, queries, YEAR) == []


def test_a_difference_is_reported(year_store: tuple[FundLedger, BureauQueries]) -> None:
    ledger, queries = year_store
    books = replay(ledger, as_of=date(YEAR, 6, 30))
    key = next(iter(books.balances))
    books.balances[key].spent += 1
    lines = differences(books, queries, YEAR)
    assert len(lines) == 1
    assert key[0] in lines[0]


def test_replay_equals_the_views_month_by_month_over_the_generators_year(sqlite_settings: Settings) -> None:
    """The project's realistic generator (Laishan preset, scaled down): every month end."""
    from scripts.generator import generate  # noqa: PLC0415

    ledger = FundLedger(env=sqlite_settings.eventsourcing_env(), clock=lambda: TODAY)
    summary = generate(ledger, preset="laishan", scale=0.5, expenditures_per_school_month=0.5)
    assert summary.expenditures > 500
    with ViewRunner(sqlite_settings, ledger=ledger) as runner:
        runner.run_until_caught_up()
    queries = BureauQueries(sqlite_settings)
    try:
        for month in range(1, 13):
            day = date(YEAR, month, 28)
            assert differences(replay(ledger, as_of=day), queries, YEAR) == [], day
    finally:
        queries.close()
        ledger.close()
