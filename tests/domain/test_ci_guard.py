"""CI never passes without PostgreSQL: with CI=true an unreachable PostgreSQL fails the
PostgreSQL tests (on a developer's machine, CI unset, they skip instead: tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
A_POSTGRES_TEST = ("tests/domain/test_stores.py::"
                   "test_a_school_funded_and_spending_survives_a_reopen_of_the_store[postgres]")
NOBODY_LISTENS = "postgresql://postgres@127.0.0.1:9/postgres"  # the discard port


def _pytest_without_postgres(ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update({"FUNDLEDGER_TEST_POSTGRES": NOBODY_LISTENS,
                "FUNDLEDGER_TEST_POSTGRES_WAIT_SECONDS": "1"})
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", A_POSTGRES_TEST],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_postgres_tests_fail_in_ci_when_postgres_is_unreachable() -> None:
    result = _pytest_without_postgres(ci="true")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "1 error" in output, output
    assert "PostgreSQL unreachable" in output, output
