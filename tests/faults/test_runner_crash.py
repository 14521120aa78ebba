"""The view runner SIGKILLed while following and while rebuilding: the views equal a fresh
rebuild afterwards. Also the one window a kill in a rebuild could hit between transactions."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.settings import Settings
from projections.reconcile import reconcile
from projections.runner import ViewRunner
from scripts.faults import runner_crash
from tests.faults.conftest import assert_held


@pytest.mark.ci_fault
@pytest.mark.slow
@pytest.mark.postgres
def test_runner_killed_while_following_resumes_exactly(postgres_settings: Settings,
                                                        tmp_path: Path) -> None:
    assert_held(runner_crash.run_live(postgres_settings, tmp_path, kills=3))


@pytest.mark.slow
@pytest.mark.postgres
def test_rebuild_killed_midway_resumes_exactly(postgres_settings: Settings, tmp_path: Path) -> None:
    assert_held(runner_crash.run_rebuild(postgres_settings, tmp_path, kills=3, rounds=40))


class _Crash(Exception):
    pass


def test_a_crash_between_dropping_the_views_and_their_position_loses_nothing(
        store_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rebuild drops the views and their tracking position. Were they dropped in separate
    transactions, a kill between would leave empty views with the old position kept, and the
    runner would resume from there with the history before it missing."""
    ledger = runner_crash.harness.ledger_for(store_settings)
    try:
        writer = runner_crash._Writer(ledger, schools=5)
        writer.write_round()
        with ViewRunner(store_settings, ledger=ledger) as runner:
            runner.run_until_caught_up()

            def crash() -> None:
                raise _Crash

            monkeypatch.setattr(runner.tracking, "drop_table", crash)
            with pytest.raises(_Crash):
                runner.rebuild()
        with ViewRunner(store_settings, ledger=ledger) as resumed:
            resumed.run_until_caught_up()
            _, lines = reconcile(ledger, resumed.db)
            assert lines == []
    finally:
        ledger.close()
