"""`fundledger serve --workers 2` on PostgreSQL: two uvicorn workers, one committer process, the
views in a third. Many clients spending one allocation at once lose nothing to conflicts; the
committer killed, writes answer 503 `store_unavailable` until it is back."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from api.settings import Settings
from api.store import open_ledger
from domain.ledger import bureau_today
from tests.api.test_end_to_end import _serve

CLIENTS = 24
SPENDS_PER_CLIENT = 6
SPEND_FEN = 100_00
RESTART_WAIT_SECONDS_MAX = 20.0


@pytest.fixture
def served(postgres_settings: Settings, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    yield from _serve(postgres_settings, tmp_path, workers=2)


def _allocation(url: str, officer: dict[str, str], approver: dict[str, str]) -> str:
    year = bureau_today().year
    for path, body in (("/v1/schools", {"code": "C-1", "name": "n", "district": "Pei",
                                        "level": "primary", "locale": "rural", "students": 9}),
                       ("/v1/funds", {"code": "C-F", "name": "f", "fiscal_year": year,
                                      "unit": "CNY", "amount": 900_000_00, "source": "county",
                                      "category": "public_operating", "earmark": "none"})):
        assert httpx.post(url + path, json=body, headers=officer, timeout=30).status_code == 201
    proposed = httpx.post(url + "/v1/allocations", headers=officer, timeout=30, json={
        "fund": "C-F", "school": "C-1", "amount": 100_000_00, "purpose": "p"}).json()
    approved = httpx.post(url + f"/v1/allocations/{proposed['id']}/approve", json={},
                          headers=approver, timeout=30)
    assert approved.status_code == 200, approved.text
    return str(proposed["id"])


def _spend(http: httpx.Client, allocation: str, voucher: str) -> httpx.Response:
    return http.post("/v1/expenditures", headers={"Idempotency-Key": voucher},
                     json={"allocation": allocation, "amount": SPEND_FEN, "payee": "p",
                           "voucher": voucher, "spent_on": bureau_today().isoformat()})


def _committer_pid(log: Path) -> int:
    found = re.findall(r"committing for the workers on \S+ \(pid (\d+)\)", log.read_text())
    assert found, log.read_text()[-2000:]
    return int(found[-1])


@pytest.mark.ci_fault
@pytest.mark.slow
@pytest.mark.postgres
def test_many_clients_spend_one_allocation_through_one_committer_and_survive_its_death(
        served: tuple[str, dict[str, str]], postgres_settings: Settings, tmp_path: Path) -> None:
    url, tokens = served
    officer = {"Authorization": f"Bearer {tokens['officer']}"}
    allocation = _allocation(url, officer, {"Authorization": f"Bearer {tokens['approver']}"})

    def client(number: int) -> list[int]:  # keep-alive: a client stays with one worker
        with httpx.Client(base_url=url, headers=officer, timeout=30) as http:
            return [_spend(http, allocation, f"V-{number}-{i}").status_code
                    for i in range(SPENDS_PER_CLIENT)]

    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = [status for answers in pool.map(client, range(CLIENTS)) for status in answers]
    assert statuses == [201] * (CLIENTS * SPENDS_PER_CLIENT)

    http = httpx.Client(base_url=url, headers=officer, timeout=30)
    os.kill(_committer_pid(tmp_path / "server.log"), signal.SIGKILL)
    refused = _spend(http, allocation, "V-after-kill")
    assert refused.status_code == 503, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "store_unavailable"
    assert "Retry-After" in refused.headers

    deadline = time.monotonic() + RESTART_WAIT_SECONDS_MAX
    again: Any = refused
    while again.status_code == 503 and time.monotonic() < deadline:
        time.sleep(0.2)
        again = _spend(http, allocation, "V-after-kill")  # the same key: safe to retry
    http.close()
    assert again.status_code == 201, again.text

    ledger = open_ledger(postgres_settings)
    try:
        spent = ledger.load(UUID(allocation)).spent
    finally:
        ledger.close()
    assert spent == (CLIENTS * SPENDS_PER_CLIENT + 1) * SPEND_FEN
