"""A fresh bureau's books served by `fundledger serve` for the workplace's browser tests: an
empty SQLite store with two officers, two approvers and a reader (no generated year: each
test builds what it needs through the dashboard or the API)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from api.settings import Settings
from api.store import open_ledger
from domain.ledger import bureau_today
from tests.dashboard.conftest import _free_port, _wait_until_views_caught_up

START_WAIT_SECONDS_MAX = 60
VIEWS_WAIT_SECONDS_MAX = 30
ROLES = {"officer": "officer", "officer2": "officer", "approver": "approver",
         "approver2": "approver", "reader": "reader"}


@dataclass(frozen=True)
class Bureau:
    url: str
    tokens: dict[str, str]  # user → token
    year: int

    def post(self, user: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = httpx.post(f"{self.url}{path}", json=body, timeout=10,
                            headers={"Authorization": f"Bearer {self.tokens[user]}"})
        assert answer.status_code < 300, answer.text
        found: dict[str, Any] = answer.json()
        return found

    def get(self, path: str, **params: Any) -> Any:
        answer = httpx.get(f"{self.url}{path}", params=params, timeout=10,
                           headers={"Authorization": f"Bearer {self.tokens['reader']}"})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def position(self) -> int:
        return int(httpx.get(f"{self.url}/healthz", timeout=5).json()["position"])

    def wait_for_views(self, position: int) -> None:
        """Until the server's views have applied `position` (bounded)."""
        deadline = time.monotonic() + VIEWS_WAIT_SECONDS_MAX
        while httpx.get(f"{self.url}/healthz", timeout=5).json()["views_position"] < position:
            assert time.monotonic() < deadline, f"the views did not reach {position}"
            time.sleep(0.02)


@pytest.fixture(scope="module")
def bureau(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bureau]:
    home = tmp_path_factory.mktemp("workplace")
    settings = Settings(database_url=f"sqlite:///{home}/fundledger.db",
                        signing_key_path=home / "signing-key.pem")
    ledger = open_ledger(settings)
    try:
        tokens = {user: ledger.add_user(f"work.{user}", [role]) for user, role in ROLES.items()}
    finally:
        ledger.close()
    env = {**os.environ, "FUNDLEDGER_DATABASE_URL": settings.database_url,
           "FUNDLEDGER_SIGNING_KEY_PATH": str(settings.signing_key_path)}
    port = _free_port()
    log_path = home / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", "from api.cli import main; main()", "serve",
             "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_views_caught_up(url, process, log_path, START_WAIT_SECONDS_MAX)
            yield Bureau(url, tokens, bureau_today().year)
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
