"""End to end over real HTTP: `fundledger serve` in its own process on a free port, against
SQLite and against PostgreSQL, walked through officer → approver → officer → auditor → reader
with the balances checked after every step."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.settings import Settings
from api.store import open_ledger
from domain.ledger import bureau_today

START_WAIT_SECONDS_MAX = 30
ROLES = ("officer", "approver", "auditor", "reader")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(store_settings: Settings, tmp_path: Path, workers: int, *,
           keep_process: bool = False) -> Iterator[Any]:
    """(url, tokens) of a served store; with `keep_process`, the server's process too."""
    ledger = open_ledger(store_settings)
    try:
        tokens = {role: ledger.add_user(f"e2e.{role}", [role]) for role in ROLES}
    finally:
        ledger.close()
    port = _free_port()
    env = {**os.environ, "FUNDLEDGER_DATABASE_URL": store_settings.database_url,
           "FUNDLEDGER_POSTGRES_SCHEMA": store_settings.postgres_schema,
           "FUNDLEDGER_POSTGRES_POOL_SIZE": "4"}
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-c", "from api.cli import main; main()", "serve", "--port", str(port),
         "--workers", str(workers)],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_WAIT_SECONDS_MAX
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail((tmp_path / "server.log").read_text())
        time.sleep(0.1)
    yield (url, tokens, process) if keep_process else (url, tokens)
    process.terminate()
    process.wait(15)
    log.close()


@pytest.fixture
def server(store_settings: Settings, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    yield from _serve(store_settings, tmp_path, workers=1)


@pytest.fixture
def two_workers(postgres_settings: Settings, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    yield from _serve(postgres_settings, tmp_path, workers=2)


def test_a_years_journey_over_http(server: tuple[str, dict[str, str]]) -> None:
    url, tokens = server
    today = bureau_today()
    year = today.year

    def call(role: str, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = httpx.request(method, url + path, json=body, params=params, timeout=30,
                                 headers={"Authorization": f"Bearer {tokens[role]}"})
        assert response.status_code < 300, response.text
        return response.json()

    def balances(position: int) -> list[dict[str, Any]]:
        body = call("reader", "GET", "/v1/schools/E2E-1/balances", fiscal_year=year,
                    min_position=position)
        assert body["position"] >= position
        return [(b["fund"], b["allocated"], b["spent"], b["remaining"]) for b in body["balances"]]

    # Officer: a rural school, a fund, a proposal. Nothing is allocated yet.
    call("officer", "POST", "/v1/schools", {"code": "E2E-1", "name": "睢宁县古邳镇中心小学",
                                            "district": "Suining", "level": "primary",
                                            "locale": "rural", "students": 812})
    call("officer", "POST", "/v1/funds", {"code": "E2E-RURAL", "name": "乡村学校补助",
                                          "fiscal_year": year, "unit": "CNY", "amount": 900_000_00,
                                          "source": "provincial", "category": "public_operating",
                                          "earmark": "rural_support"})
    proposed = call("officer", "POST", "/v1/allocations",
                    {"fund": "E2E-RURAL", "school": "E2E-1", "amount": 120_000_00,
                     "purpose": "乡村学校公用经费补助"})
    assert balances(proposed["position"]) == []

    # Approver: approved, the school has the money.
    approved = call("approver", "POST", f"/v1/allocations/{proposed['id']}/approve", {})
    assert balances(approved["position"]) == [("E2E-RURAL", 120_000_00, 0, 120_000_00)]

    # Officer: spending, then a mistaken entry reversed.
    spent = call("officer", "POST", "/v1/expenditures",
                 {"allocation": proposed["id"], "amount": 45_000_00, "payee": "睢宁县新华书店",
                  "voucher": "SN-0001", "spent_on": today.isoformat(), "description": "图书",
                  "economic_class": "books"})
    assert balances(spent["position"]) == [("E2E-RURAL", 120_000_00, 45_000_00, 75_000_00)]
    wrong = call("officer", "POST", "/v1/expenditures",
                 {"allocation": proposed["id"], "amount": 5_000_00, "payee": "x",
                  "voucher": "SN-0002", "spent_on": today.isoformat()})
    assert balances(wrong["position"]) == [("E2E-RURAL", 120_000_00, 50_000_00, 70_000_00)]
    reversed_ = call("officer", "POST", f"/v1/expenditures/{wrong['id']}/reverse",
                     {"reason": "entered twice"})
    assert balances(reversed_["position"]) == [("E2E-RURAL", 120_000_00, 45_000_00, 75_000_00)]

    # Auditor: the chain holds; the allocation's history names its actors.
    verified = call("auditor", "GET", "/v1/audit/verify")
    assert verified["ok"] is True
    journal = call("auditor", "GET", "/v1/audit/journal", limit=1000)
    assert {"e2e.officer", "e2e.approver"} <= {item["actor"] for item in journal["items"]}

    # Reader: the fund and the rural-support report agree with the school's balances.
    fund = call("reader", "GET", "/v1/funds/E2E-RURAL", min_position=reversed_["position"])
    assert (fund["allocated"], fund["spent"], fund["available"]) == (
        120_000_00, 45_000_00, 780_000_00)
    report = call("reader", "GET", "/v1/reports/rural-support", fiscal_year=year,
                  min_position=reversed_["position"])
    rural = [r for r in report["rows"] if r["district"] == "Suining" and r["locale"] == "rural"]
    assert (rural[0]["allocated"], rural[0]["spent"]) == (120_000_00, 45_000_00)
    assert balances(reversed_["position"]) == [("E2E-RURAL", 120_000_00, 45_000_00, 75_000_00)]


@pytest.mark.slow
def test_two_workers_and_a_view_process_serve_the_same_books(
        two_workers: tuple[str, dict[str, str]]) -> None:
    url, tokens = two_workers
    headers = {"Authorization": f"Bearer {tokens['officer']}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        positions = []
        for i in range(20):  # new connections each time: both workers take some
            response = httpx.post(f"{url}/v1/schools", headers=headers, timeout=30, json={
                "code": f"W-{i}", "name": "n", "district": "Pei", "level": "primary",
                "locale": "rural", "students": 1})
            assert response.status_code == 201, response.text
            positions.append(response.json()["position"])
        reader = {"Authorization": f"Bearer {tokens['reader']}"}
        listed = client.get("/v1/schools", params={"min_position": max(positions), "limit": 100},
                            headers=reader)
        assert listed.status_code == 200, listed.text
        assert {s["code"] for s in listed.json()["items"]} == {f"W-{i}" for i in range(20)}
