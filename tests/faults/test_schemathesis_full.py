"""The schemathesis run of tests/api/test_schemathesis.py with a larger budget (slow set):
every operation, authenticated, zero 5xx and zero schema violations."""

from __future__ import annotations

import os

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from tests.api.test_schemathesis import CHECKS, _as_wire_parts, schema, served  # noqa: F401

EXAMPLES_PER_OPERATION = int(os.environ.get("FUNDLEDGER_FUZZ_EXAMPLES", "150"))


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_no_5xx_and_no_schema_violation_with_a_larger_budget(
        case: schemathesis.Case, served: tuple[TestClient, str, int]) -> None:  # noqa: F811
    client, token, _ = served
    kwargs = case.as_transport_kwargs(base_url="http://testserver",
                                      headers={"Authorization": f"Bearer {token}"})
    kwargs.pop("cookies", None)
    kwargs["files"] = _as_wire_parts(kwargs.get("files"))
    response = client.request(**kwargs)
    response.request.read()
    case.validate_response(response, checks=CHECKS)
