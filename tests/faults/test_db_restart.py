"""PostgreSQL stopped and started under load (a throwaway cluster, never the shared one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.faults import db_restart, harness
from tests.conftest import in_ci
from tests.faults.conftest import assert_held

# Skipped only off CI: with CI=true a missing initdb is a failure, as for PostgreSQL itself.
needs_binaries = pytest.mark.skipif(
    not (harness.PG_BIN / "initdb").exists() and not in_ci(),
    reason="PostgreSQL server binaries are not installed")


@pytest.mark.slow
@pytest.mark.postgres
@needs_binaries
def test_the_database_restarting_costs_503s_and_nothing_acknowledged(tmp_path: Path) -> None:
    assert_held(db_restart.run(tmp_path, restarts=2))
