"""The auditor's HTTP API: journal, history, verify, digests, exports; auditors only."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.app import create_app
from api.settings import Settings
from domain.ledger import FundLedger
from projections import digests
from projections.database import ViewDatabase
from projections.journal import event_table
from tests.audit.conftest import build_small_bureau
from tests.conftest import APPROVER, TODAY
from tests.factories import applied

VIEWS_WAIT_SECONDS = 10


@dataclass
class AuditApi:
    client: TestClient
    ledger: FundLedger
    settings: Settings
    tokens: dict[str, str]

    def get(self, path: str, role: str = "auditor", **params: Any) -> Any:
        return self.client.get(path, params=params, headers={"Authorization": f"Bearer {self.tokens[role]}"})


@pytest.fixture
def audit_api(store_settings: Settings, tmp_path: Any) -> Iterator[AuditApi]:
    settings = store_settings.model_copy(update={"signing_key_path": tmp_path / "bureau.pem"})
    ledger = FundLedger(env=settings.eventsourcing_env(), clock=lambda: TODAY)
    build_small_bureau(ledger)
    tokens = {role: ledger.add_user(f"user.{role}", [role]) for role in ("auditor", "reader", "officer")}
    app = create_app(settings, clock=lambda: TODAY, ledger=ledger)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert app.state.queries.wait_for(ledger.recorder.max_notification_id(), VIEWS_WAIT_SECONDS)
        yield AuditApi(client, ledger, settings, tokens)
    ledger.close()


def test_only_auditors_read_the_audit_trail(audit_api: AuditApi) -> None:
    for path in ("/v1/audit/journal", "/v1/audit/verify", "/v1/audit/history/PO-2025",
                 "/v1/audit/exports/balances?fiscal_year=2025"):
        assert audit_api.get(path, role="reader").status_code == 403, path
        assert audit_api.get(path, role="officer").status_code == 403, path
        assert audit_api.client.get(path).status_code == 401, path
    response = audit_api.client.post("/v1/audit/digests",
                                      headers={"Authorization": f"Bearer {audit_api.tokens['officer']}"})
    assert response.status_code == 403


def test_journal_pages_with_a_next_link(audit_api: AuditApi) -> None:
    first = audit_api.get("/v1/audit/journal", limit=5).json()
    assert [i["position"] for i in first["items"]] == [1, 2, 3, 4, 5]
    assert set(first["items"][0]) >= {"position", "recorded_at", "actor", "entity_id", "entity_type",
                                      "event", "amount", "unit", "reason", "hash"}
    auditor = {"Authorization": f"Bearer {audit_api.tokens['auditor']}"}
    second = audit_api.client.get(first["next"], headers=auditor)
    assert [i["position"] for i in second.json()["items"]] == [6, 7, 8, 9, 10]


def test_history_by_code_and_unknown_entity(audit_api: AuditApi) -> None:
    body = audit_api.get("/v1/audit/history/PO-2025").json()
    assert body["items"][0]["event"] == "Fund.Opened"
    assert body["items"][0]["actor"] == "olga.officer"
    assert audit_api.get("/v1/audit/history/NOPE").status_code == 404


def test_verify_and_a_signed_digest_that_verifies(audit_api: AuditApi) -> None:
    verified = audit_api.get("/v1/audit/verify").json()
    assert verified["ok"] is True
    assert verified["first_bad_position"] is None
    assert verified["checked"] == audit_api.ledger.recorder.max_notification_id()
    response = audit_api.client.post("/v1/audit/digests",
                                      headers={"Authorization": f"Bearer {audit_api.tokens['auditor']}"})
    assert response.status_code == 201, response.text
    body = response.json()
    digest = digests.Digest(**{k: v for k, v in body.items() if k != "public_key_pem"})
    trusted = digests.public_key_from_pem(body["public_key_pem"].encode())
    assert (audit_api.settings.signing_key_path.stat().st_mode & 0o777) == 0o600
    pem = audit_api.get("/v1/audit/public-key")
    assert pem.text == body["public_key_pem"]
    listed = audit_api.get("/v1/audit/digests").json()["items"]  # signed so far: this one
    assert [(d["position"], d["signature"]) for d in listed] == [(digest.position, digest.signature)]
    assert listed[0]["signed_by"].endswith("auditor")
    assert audit_api.get("/v1/audit/digests", role="reader").status_code == 403
    db = ViewDatabase.open(audit_api.settings)
    try:
        assert digests.check_history(digest, event_table(db), trusted).ok
    finally:
        db.close()


def test_exports_download_as_xlsx_and_csv(audit_api: AuditApi) -> None:
    response = audit_api.get("/v1/audit/exports/rural-support", fiscal_year=2025, format="xlsx")
    assert response.status_code == 200, response.text
    assert "rural-support-2025.xlsx" in response.headers["content-disposition"]
    assert load_workbook(io.BytesIO(response.content)).sheetnames[0] == "rural_support"
    # `rural`, the export's first name, stays an alias of `rural-support`.
    aliased = audit_api.get("/v1/audit/exports/rural", fiscal_year=2025, format="csv")
    named = audit_api.get("/v1/audit/exports/rural-support", fiscal_year=2025, format="csv")
    assert aliased.status_code == named.status_code == 200
    assert aliased.content == named.content
    response = audit_api.get("/v1/audit/exports/journal", fiscal_year=2025, format="csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert audit_api.get("/v1/audit/exports/nothing", fiscal_year=2025).status_code == 422


def test_history_pages_with_a_next_link(audit_api: AuditApi) -> None:
    whole = audit_api.get("/v1/audit/history/PO-2025", limit=1000).json()
    assert whole["next"] is None
    positions = [i["position"] for i in whole["items"]]
    assert len(positions) == 4
    auditor = {"Authorization": f"Bearer {audit_api.tokens['auditor']}"}
    paged: list[int] = []
    page = audit_api.get("/v1/audit/history/PO-2025", limit=3).json()
    while True:
        assert len(page["items"]) <= 3
        paged += [i["position"] for i in page["items"]]
        if page["next"] is None:
            break
        page = audit_api.client.get(page["next"], headers=auditor).json()
    assert paged == positions
    assert audit_api.get("/v1/audit/history/PO-2025", limit=1001).status_code == 422


def test_journal_and_history_wait_for_min_position(audit_api: AuditApi) -> None:
    ledger = audit_api.ledger
    written = applied(ledger, ledger.adjust_fund(APPROVER, "PO-2025", delta=1_000,
                                                 reason="top-up"))
    journal = audit_api.get("/v1/audit/journal", after=written.position - 1, limit=10,
                            min_position=written.position)
    assert journal.status_code == 200, journal.text
    assert journal.json()["items"][-1]["event"] == "Fund.AppropriationAdjusted"
    history = audit_api.get("/v1/audit/history/PO-2025", limit=1000,
                            min_position=written.position).json()
    assert history["items"][-1]["position"] == written.position
    beyond = audit_api.get("/v1/audit/journal", min_position=written.position + 100)
    assert beyond.status_code == 422
    assert beyond.headers["content-type"].startswith("application/problem+json")


def test_the_register_downloads_over_http(audit_api: AuditApi) -> None:
    response = audit_api.get("/v1/audit/exports/funds", fiscal_year=2025, format="csv")
    assert response.status_code == 200, response.text
    assert "funds-2025.csv" in response.headers["content-disposition"]
    assert "苏财教〔2025〕31号" in response.content.decode("utf-8-sig")


def test_exports_name_values_in_the_asked_language(audit_api: AuditApi) -> None:
    zh = audit_api.get("/v1/audit/exports/journal", fiscal_year=2025, format="csv", lang="zh")
    assert zh.status_code == 200, zh.text
    text = zh.content.decode("utf-8-sig")
    assert text.startswith("位置 position,") and "资金设立" in text and ",Fund.Opened," not in text
    auth = {"Authorization": f"Bearer {audit_api.tokens['auditor']}"}
    by_header = audit_api.client.get("/v1/audit/exports/journal",
                                     headers={**auth, "Accept-Language": "zh-CN"},
                                     params={"fiscal_year": 2025, "format": "csv"})
    assert by_header.content == zh.content
    en = audit_api.get("/v1/audit/exports/journal", fiscal_year=2025, format="xlsx")
    sheet = load_workbook(io.BytesIO(en.content))["journal"]
    events = {row[5].value for row in sheet.iter_rows(min_row=2)}
    assert "Fund opened" in events and "资金设立" not in events
    wrong = audit_api.get("/v1/audit/exports/journal", fiscal_year=2025, format="csv", lang="fr")
    assert wrong.status_code == 422
    assert wrong.headers["content-type"].startswith("application/problem+json")
