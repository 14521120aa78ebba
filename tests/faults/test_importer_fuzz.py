"""Hypothesis fuzzing of the CSV importer: never an unexpected exception, all or nothing."""

from __future__ import annotations

import pytest

from api.settings import Settings
from scripts.faults import importer_fuzz
from tests.faults.conftest import assert_held


def test_importer_fuzz_on_the_in_memory_store() -> None:
    assert_held(importer_fuzz.run(examples=150))


@pytest.mark.ci_fault
@pytest.mark.slow
@pytest.mark.postgres
def test_importer_fuzz_on_postgres(postgres_settings: Settings) -> None:
    assert_held(importer_fuzz.run(postgres_settings, examples=300))
