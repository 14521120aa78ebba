"""The API SIGKILLed under load: every acknowledged write survives, nothing half-written."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.settings import Settings
from scripts.faults import api_crash
from tests.faults.conftest import assert_held


@pytest.mark.postgres
def test_one_kill_under_load_loses_no_acknowledged_write(postgres_settings: Settings,
                                                         tmp_path: Path) -> None:
    report = api_crash.run(postgres_settings, tmp_path, kills=1, writers=6,
                           seconds_between_kills=2.0)
    assert_held(report)
    assert report.facts["acknowledged"] > 20


@pytest.mark.slow
@pytest.mark.postgres
def test_five_kills_under_load_lose_no_acknowledged_write(postgres_settings: Settings,
                                                          tmp_path: Path) -> None:
    report = api_crash.run(postgres_settings, tmp_path, kills=5, writers=8,
                           seconds_between_kills=3.0)
    assert_held(report)
