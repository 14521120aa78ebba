"""The dashboard's tranche pages (zh-CN by default): the officer's preview with its XLSX
download and proposal, and the approver's page of the tranche to approve."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.api.conftest import FISCAL_YEAR, Api
from tests.api.test_formula_funding import _bureau


def _as(api: Api, role: str) -> None:
    """Logged in through the login form: a session, whose CSRF token the forms carry."""
    api.client.cookies.clear()
    assert api.client.post("/dashboard/login", data={"token": api.tokens[role]},
                           follow_redirects=False).status_code == 303


def _csrf(page: str) -> str:
    return page.split('name="csrf_token" value="')[1].split('"', maxsplit=1)[0]


def test_an_officer_previews_downloads_and_proposes_and_an_approver_approves(api: Api) -> None:
    snapshot = _bureau(api)
    query = {"fund": "PUB-1", "snapshot": snapshot["name"], "semester": "spring", "share": "0.5",
             "effective_date": f"{FISCAL_YEAR}-03-05"}
    _as(api, "officer")
    page = api.client.get("/dashboard/tranches", params=query)
    assert page.status_code == 200, page.text
    assert "按生均标准分批拨款" in page.text and "525,400.00" in page.text
    assert 'id="tranche-propose"' in page.text
    download = api.client.get("/dashboard/tranches/preview.xlsx", params=query)
    assert download.status_code == 200
    rows = list(load_workbook(io.BytesIO(download.content)).active.iter_rows(values_only=True))
    assert rows[1][:3] == ("school", "level", "pupils")
    by_school = {r[0]: r for r in rows[2:5]}
    assert by_school["XZ-P-2"][15] == 40_000_00  # amount, in fen
    plan = page.text.split('name="plan" value="')[1].split('"')[0]
    assert api.client.post("/dashboard/tranches", data={**query, "plan": plan}).status_code == 403
    proposed = api.client.post("/dashboard/tranches",
                               data={**query, "plan": plan, "csrf_token": _csrf(page.text)},
                               follow_redirects=False)
    assert proposed.status_code == 303
    location = proposed.headers["location"]
    own = api.client.get(location)
    assert "只有审批人（且非经办人）可以审批" in own.text

    _as(api, "approver")
    shown = api.client.get(location)
    assert 'id="tranche-approve"' in shown.text and "待审批" in shown.text
    decided = api.client.post(f"{location}/approve", data={"exclude": "XZ-J-1=人数待核",
                                                           "csrf_token": _csrf(shown.text)},
                              follow_redirects=True)
    assert "已批准" in decided.text and "XZ-J-1: 人数待核" in decided.text


def test_a_refused_preview_reads_in_the_pages_language(api: Api) -> None:
    """Issue 19: a Chinese page shows the refusal's Chinese title and detail, no English."""
    snapshot = _bureau(api)
    query = {"fund": "PUB-9", "snapshot": snapshot["name"], "semester": "spring", "share": "0.5",
             "effective_date": f"{FISCAL_YEAR}-03-05"}
    _as(api, "officer")
    page = api.client.get("/dashboard/tranches", params=query)
    problem = page.text.split('id="tranche-problem">')[1].split("</p>")[0]
    assert problem == "资金不存在：PUB-9", problem
    api.client.cookies.set("fundledger_lang", "en", path="/dashboard")
    english = api.client.get("/dashboard/tranches", params=query)
    assert "fund_not_found: fund PUB-9 not found" in english.text
