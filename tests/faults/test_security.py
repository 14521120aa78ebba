"""Attacks on a real server on PostgreSQL: tokens, revocation, body limit, error bodies."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.settings import Settings
from scripts.faults import security
from tests.faults.conftest import assert_held


@pytest.mark.postgres
def test_tokens_limits_and_error_bodies_hold(postgres_settings: Settings, tmp_path: Path) -> None:
    report = security.run(postgres_settings, tmp_path, hostile_requests=150)
    assert_held(report)
