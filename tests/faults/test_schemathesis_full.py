"""The schemathesis run of tests/api/test_schemathesis.py with a larger budget (slow set):
every operation, authenticated, zero 5xx and zero schema violations."""

from __future__ import annotations

import os

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from tests.api.test_schemathesis import schema, send_and_check, served  # noqa: F401

EXAMPLES_PER_OPERATION = int(os.environ.get("FUNDLEDGER_FUZZ_EXAMPLES", "150"))


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_no_5xx_and_no_schema_violation_with_a_larger_budget(
        case: schemathesis.Case, served: tuple[TestClient, str, int]) -> None:  # noqa: F811
    send_and_check(case, served)
