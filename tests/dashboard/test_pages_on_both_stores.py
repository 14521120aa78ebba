"""Every dashboard page answers on both stores, now and as of a date (PostgreSQL sums money as
NUMERIC: a page that formatted such a sum failed there with a 500). The findings page and its
download read in the page's language: parameters named for people, money in yuan (issue 19)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.dashboard.i18n import rule_name
from api.dashboard.pages import LANGUAGE_COOKIE
from api.settings import Settings
from domain.ledger import FundLedger
from tests.audit.conftest import build_small_bureau
from tests.conftest import TODAY
from tests.dashboard_login import dashboard_login

VIEWS_WAIT_SECONDS = 10
PAGES = ("/dashboard", "/dashboard/schools", "/dashboard/schools/XZ-PZ-0002", "/dashboard/rural",
         "/dashboard/audit", "/dashboard/findings")


@pytest.fixture
def client(store_settings: Settings, tmp_path: Any) -> Iterator[TestClient]:
    settings = store_settings.model_copy(update={"signing_key_path": tmp_path / "bureau.pem"})
    ledger = FundLedger(env=settings.eventsourcing_env(), clock=lambda: TODAY)
    build_small_bureau(ledger)
    token = ledger.add_user("page.auditor", ["auditor"])
    app = create_app(settings, clock=lambda: TODAY, ledger=ledger)
    with TestClient(app, raise_server_exceptions=False) as made:
        assert app.state.queries.wait_for(ledger.recorder.max_notification_id(), VIEWS_WAIT_SECONDS)
        dashboard_login(made, token)
        yield made
    ledger.close()


@pytest.mark.parametrize("as_of", ["", "2025-06-30"])
def test_every_page_answers(client: TestClient, as_of: str) -> None:
    for path in PAGES:
        response = client.get(path, params={"year": "2025", "as_of": as_of})
        assert response.status_code == 200, (path, response.text[:300])


def _page(client: TestClient, language: str, **params: str) -> str:
    client.cookies.set(LANGUAGE_COOKIE, language)
    response = client.get("/dashboard/findings", params={"year": "2025", **params})
    assert response.status_code == 200, response.text[:300]
    return response.text


def test_the_parameters_are_named_in_the_pages_language_with_money_in_yuan(client: TestClient) -> None:
    zh = _page(client, "zh", rule="below_benchmark")
    assert "小学生均基准: 650.00 元" in zh
    assert "benchmark_fen_per_student_primary" not in zh and "65000" not in zh
    en = _page(client, "en", rule="split_purchase")
    assert "procurement threshold: ¥100,000.00" in en and "procurement_threshold_fen" not in en
    assert "window (days): 30" in en


def test_the_download_reads_in_the_pages_language(client: TestClient) -> None:
    rows = {}
    for language in ("zh", "en"):
        client.cookies.set(LANGUAGE_COOKIE, language)
        response = client.get("/dashboard/findings/export", params={"year": "2025", "format": "csv"})
        assert response.status_code == 200
        rows[language] = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows["zh"], "the small bureau has findings"
    for zh, en in zip(rows["zh"], rows["en"], strict=True):
        assert zh["规则名称 rule_name"] == rule_name(zh["规则 rule"], "zh")
        assert en["规则名称 rule_name"] == rule_name(en["规则 rule"], "en")
        assert zh["amount_minor"] == en["amount_minor"]
