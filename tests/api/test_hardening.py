"""Smaller defects of issue 14: the dashboard echoing HTML unescaped with no content type, a
token in a query string written to the access log, and a world-readable SQLite file."""

from __future__ import annotations

import logging
import stat
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute

from api.cli.server import QueryStringsDropped, log_config
from api.settings import Settings
from api.strict_json import DuplicateKey, StrictJsonRoute, loads_strict
from tests.api.conftest import Api
from tests.dashboard_login import dashboard_login

HOSTILE = "<img src=x onerror=alert(9)>"


def test_every_dashboard_answer_is_escaped_typed_nosniff_and_under_a_csp(api: Api) -> None:
    dashboard_login(api.client, api.tokens["reader"])
    try:
        answer = api.client.get(f"/dashboard/schools/{HOSTILE}")
    finally:
        api.client.cookies.clear()
    assert answer.status_code == 404
    assert HOSTILE not in answer.text and "&lt;img" in answer.text
    assert answer.headers["content-type"].startswith("text/html")
    for path in ("/dashboard", "/dashboard/login", f"/dashboard/schools/{HOSTILE}",
                 "/dashboard/static/nothing.css"):
        headers = api.client.get(path, follow_redirects=False).headers
        assert headers["x-content-type-options"] == "nosniff", path
        assert "script-src 'self'" in headers["content-security-policy"], path
        assert "content-type" in headers, path


def test_the_access_log_never_shows_a_query_string() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", "/v1/funds?access_token=flt_secret", "1.1",
                                401), None)
    assert QueryStringsDropped().filter(record)
    assert "flt_secret" not in record.getMessage()
    assert "/v1/funds" in record.getMessage()
    config = log_config()
    assert config["handlers"]["access"]["filters"] == ["query_strings_dropped"]


def test_a_new_sqlite_store_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    database = tmp_path / "new" / "fundledger.db"
    Settings(database_url=f"sqlite:///{database}").eventsourcing_env()
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_approvers_see_pending_changes_on_the_dashboard(funded: dict[str, object], api: Api) -> None:
    allocation = funded["allocation"]["id"]  # type: ignore[index]
    made = api.ok(api.post("officer", f"/v1/allocations/{allocation}/cancel",
                           {"reason": "merged"}), 202)
    api.ok(api.get("reader", "/v1/changes", min_position=made["position"]))
    try:
        dashboard_login(api.client, api.tokens["approver"])
        page = api.client.get("/dashboard/changes")
        dashboard_login(api.client, api.tokens["reader"])
        denied = api.client.get("/dashboard/changes")
    finally:
        api.client.cookies.clear()
    assert page.status_code == 200, page.text
    assert made["change"] in page.text and "撤销拨款" in page.text
    assert denied.status_code == 403
    assert made["change"] not in denied.text and 'id="denied"' in denied.text


def test_who_asks_is_decided_before_what_they_sent(api: Api) -> None:
    """Malformed JSON with no token was 400 (not 401), and from a reader 400 (not 403)."""
    bad = b'{"code": '
    nobody = api.client.post("/v1/schools", content=bad,
                             headers={"Content-Type": "application/json"})
    assert (nobody.status_code, nobody.json()["code"]) == (401, "unknown_token")
    reader = api.client.post("/v1/schools", content=bad, headers={
        **api.headers("reader"), "Content-Type": "application/json"})
    assert (reader.status_code, reader.json()["code"]) == (403, "role_not_allowed")
    officer = api.client.post("/v1/schools", content=bad, headers={
        **api.headers("officer"), "Content-Type": "application/json"})
    assert (officer.status_code, officer.json()["code"]) == (400, "malformed_json")
    invalid = api.client.post("/v1/schools", json={"code": 1})
    assert invalid.status_code == 401


def test_a_request_without_credentials_may_send_little(api: Api) -> None:
    big = b"x" * (200 * 1024)
    nobody = api.client.post("/v1/imports", content=big, headers={"Content-Type": "text/csv"})
    assert (nobody.status_code, nobody.json()["code"]) == (413, "body_too_large")
    officer = api.client.post("/v1/imports", content=big, headers={
        **api.headers("officer"), "Content-Type": "text/csv"})
    assert officer.status_code != 413


@pytest.mark.parametrize("spent_on", ["1796169600", "2025-03-01T00:00:00+08:00",
                                      "2025-03-01T00:00:00", "20250301", "２０２５-０３-０１"])
def test_a_date_is_a_calendar_day_in_iso_text(funded: dict[str, object], api: Api,
                                              spent_on: str) -> None:
    before = api.ledger.last_position()
    body = {"allocation": funded["allocation"]["id"], "amount": 1, "payee": "p",  # type: ignore[index]
            "voucher": "V-D", "spent_on": spent_on}
    answer = api.post("officer", "/v1/expenditures", body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["loc"][-1] == "spent_on"
    assert api.ledger.last_position() == before


def test_key_paths_are_resolved_once_and_absolute(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(signing_key_path=Path("keys/bureau.pem"))
    assert settings.signing_key_path == tmp_path / "keys" / "bureau.pem"
    assert settings.snapshot_key_file == tmp_path / "keys" / "snapshot-seal.key"


@pytest.mark.parametrize("raw", [
    b'{"allocation": "%s", "amount": 1, "amount": 100000000, "payee": "p", "voucher": "V-K",'
    b' "spent_on": "2025-03-02"}',
    b'{"allocation": "%s", "amount": 1, "payee": "p", "voucher": "V-K", "payee": "q",'
    b' "spent_on": "2025-03-02"}',
])
def test_a_key_named_twice_is_refused_by_name_and_nothing_is_written(
        funded: dict[str, object], api: Api, raw: bytes) -> None:
    """`{"amount": 1, "amount": 100000000}` was read last-wins: a proxy or log keeping the
    first value saw another request than the ledger did."""
    body = raw % funded["allocation"]["id"].encode()  # type: ignore[index]
    before = api.ledger.last_position()
    json_type = {"Content-Type": "application/json"}
    answer = api.client.post("/v1/expenditures", content=body,
                             headers={**api.headers("officer"), **json_type})
    problem = answer.json()
    assert (answer.status_code, problem["code"]) == (400, "duplicate_key"), answer.text
    assert problem["key"] in ("amount", "payee") and repr(problem["key"]) in problem["detail"]
    assert api.ledger.last_position() == before
    nobody = api.client.post("/v1/expenditures", content=body, headers=json_type)
    assert (nobody.status_code, nobody.json()["code"]) == (401, "unknown_token")


def test_a_key_named_twice_deep_inside_is_refused_too() -> None:
    with pytest.raises(DuplicateKey) as refused:
        loads_strict(b'{"lines": [{"school": "A", "amount": 1}, {"school": "B", "school": "C"}]}')
    assert refused.value.key == "school"
    assert loads_strict(b'{"a": {"k": 1}, "b": {"k": 2}}') == {"a": {"k": 1}, "b": {"k": 2}}


def _api_routes(routes: list[Any]) -> list[APIRoute]:
    """The app's routes, through the routers it includes (FastAPI keeps them per router)."""
    found: list[APIRoute] = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            found += _api_routes(included.routes)
        elif isinstance(route, APIRoute):
            found.append(route)
    return found


def test_every_api_route_reads_its_body_strictly(api: Api) -> None:
    """A router made without `route_class=StrictJsonRoute` would read duplicate keys
    last-wins again."""
    routes = [r for r in _api_routes(api.client.app.routes)  # type: ignore[attr-defined]
              if r.path.startswith("/v1")]
    assert len(routes) > 50  # the walk found the API
    assert [r.path for r in routes if not isinstance(r, StrictJsonRoute)] == []
