"""64 concurrent HTTP clients on the same allocations and fund, through group commit."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.settings import Settings
from scripts.faults import races
from tests.faults.conftest import assert_held


@pytest.mark.postgres
def test_exactly_the_affordable_writes_succeed(postgres_settings: Settings, tmp_path: Path) -> None:
    report = races.run(postgres_settings, tmp_path, clients=64, spend_rounds=1, proposals=32,
                       affordable_approvals=12)
    assert_held(report)
    assert report.operations == 2 * 64 + 2 * 32
