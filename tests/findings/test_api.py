"""GET /v1/audit/findings: the auditor's findings over HTTP, as of a day; other roles refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from domain.ledger import FundLedger
from projections.runner import ViewRunner
from scripts.anomalies import approve_as
from tests.conftest import OFFICER, TODAY
from tests.findings.conftest import build_bureau


@pytest.fixture
def client(sqlite_settings: Settings) -> Iterator[TestClient]:
    ledger = FundLedger(env=sqlite_settings.eventsourcing_env(), clock=lambda: TODAY)
    bureau = build_bureau(ledger)
    bureau.open_fund("OLD-2025", "equipment", date(2025, 4, 1))
    allocation, _ = bureau.allocate("OLD-2025", "GL-P1", 1_000_001, date(2025, 4, 1), None)
    approve_as(ledger, allocation, actor_id=OFFICER.user_id, role="approver", day=date(2025, 4, 2))
    bureau.spend(allocation, 1_000_001, date(2025, 11, 2), economic_class="equipment")
    with ViewRunner(sqlite_settings, ledger=ledger) as runner:
        runner.run_until_caught_up()
    app = create_app(sqlite_settings, clock=lambda: TODAY, run_views=False, group_commit=False, ledger=ledger)
    app.state.allocation = str(allocation)
    with TestClient(app) as client:
        yield client
    bureau.session.close()
    ledger.close()


def _token(client: TestClient, role: str) -> dict[str, str]:
    ledger: FundLedger = client.app.state.ledger  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {ledger.add_user(f'user.{role}', [role])}"}


def test_an_auditor_gets_the_findings_with_their_evidence(client: TestClient) -> None:
    response = client.get(
        "/v1/audit/findings", params={"fiscal_year": 2025}, headers=_token(client, "auditor")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["as_of"] == "2025-12-31"
    assert [(item["rule"], item["key"]) for item in body["items"]] == [
        ("maker_checker", {"allocation_id": client.app.state.allocation})  # type: ignore[attr-defined]
    ]
    assert len(body["items"][0]["evidence"]) == 2
    assert {rule["name"] for rule in body["rules"]} >= {"maker_checker", "pass_through_late"}
    early = client.get(
        "/v1/audit/findings",
        params={"fiscal_year": 2025, "as_of": "2025-04-01"},
        headers=_token(client, "auditor"),
    )
    assert early.json()["count"] == 0


def test_only_auditors_may_ask_and_unknown_rules_are_refused(client: TestClient) -> None:
    assert client.get("/v1/audit/findings", params={"fiscal_year": 2025}).status_code == 401
    officer = client.get(
        "/v1/audit/findings", params={"fiscal_year": 2025}, headers=_token(client, "officer")
    )
    assert officer.status_code == 403
    bad = client.get(
        "/v1/audit/findings", params={"fiscal_year": 2025, "rule": "nope"}, headers=_token(client, "auditor")
    )
    assert bad.status_code == 422
    assert "unknown rule" in bad.json()["detail"]
