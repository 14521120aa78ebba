"""An API client on a real SQLite store, with a token per role, and a small bureau built over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from domain.ledger import FundLedger
from tests.conftest import TODAY

ROLES = ("officer", "approver", "auditor", "reader", "admin")
FISCAL_YEAR = TODAY.year
VIEWS_WAIT_SECONDS = 10.0


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str]

    @property
    def ledger(self) -> FundLedger:
        ledger: FundLedger = self.client.app.state.ledger  # type: ignore[attr-defined]
        return ledger

    def views_caught_up(self) -> None:
        """The views hold every event written so far: a dashboard page, unlike a /v1 read, takes
        no `min_position`, and the view runner follows the writes in its own thread."""
        app = self.client.app
        assert app.state.queries.wait_for(  # type: ignore[attr-defined]
            self.ledger.recorder.max_notification_id() or 0, VIEWS_WAIT_SECONDS), "views behind"

    def headers(self, role: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}", **extra}

    def post(self, role: str, path: str, body: Any, **headers: str) -> Any:
        return self.client.post(path, json=body, headers=self.headers(role, **headers))

    def get(self, role: str, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.headers(role))

    def applied(self, response: Any, checker: str = "checker") -> dict[str, Any]:
        """A two-person change: the maker's 202, then another approver's approval (its body:
        the change with `changed`, each changed subject as the books now hold it)."""
        change = self.ok(response, 202)
        assert change["status"] == "pending", change
        return self.ok(self.post(checker, f"/v1/changes/{change['change']}/approve", {}))

    def ok(self, response: Any, status: int = 200) -> dict[str, Any]:
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json()
        return body

    # A small bureau, built through the API itself.
    def school(self, code: str = "XZ-PX-0001", locale: str = "rural", **fields: Any) -> dict[str, Any]:
        body = {"code": code, "name": f"沛县{code}小学", "district": "Pei", "level": "primary",
                "locale": locale, "poverty_area": False, "students": 420,
                "effective_date": f"{FISCAL_YEAR}-01-01", **fields}
        return self.ok(self.post("officer", "/v1/schools", body), 201)

    def fund(self, code: str = "PUB-1", amount: int = 1_000_000_00, **fields: Any) -> dict[str, Any]:
        body = {"code": code, "name": "生均公用经费", "fiscal_year": FISCAL_YEAR, "unit": "CNY",
                "amount": amount, "source": "county", "category": "public_operating",
                "earmark": "none", "effective_date": f"{FISCAL_YEAR}-01-02", **fields}
        return self.ok(self.post("officer", "/v1/funds", body), 201)

    def allocation(self, fund: str = "PUB-1", school: str = "XZ-PX-0001",
                   amount: int = 50_000_00, approve: bool = True) -> dict[str, Any]:
        body = {"fund": fund, "school": school, "amount": amount, "purpose": "春季公用经费",
                "effective_date": f"{FISCAL_YEAR}-02-01"}
        allocation = self.ok(self.post("officer", "/v1/allocations", body), 201)
        if approve:
            allocation = self.ok(self.post("approver", f"/v1/allocations/{allocation['id']}/approve",
                                           {"effective_date": f"{FISCAL_YEAR}-02-03"}))
        return allocation

    def expenditure(self, allocation: str, amount: int = 1_200_00, voucher: str = "V-0001",
                    **fields: Any) -> dict[str, Any]:
        body = {"allocation": allocation, "amount": amount, "payee": "徐州供电公司",
                "voucher": voucher, "spent_on": f"{FISCAL_YEAR}-03-02", "description": "电费",
                **fields}
        return self.ok(self.post("officer", "/v1/expenditures", body), 201)


def _api(settings: Settings) -> Iterator[Api]:
    app = create_app(settings, clock=lambda: TODAY)
    with TestClient(app, raise_server_exceptions=False) as client:
        ledger: FundLedger = app.state.ledger
        tokens = {role: ledger.add_user(f"user.{role}", [role]) for role in ROLES}
        # A second approver, to approve the two-person changes the first one makes.
        tokens["checker"] = ledger.add_user("user.checker", ["approver"])
        yield Api(client, tokens)


@pytest.fixture
def api(sqlite_settings: Settings) -> Iterator[Api]:
    yield from _api(sqlite_settings)


@pytest.fixture
def stored_api(store_settings: Settings) -> Iterator[Api]:
    """The same client on SQLite, then on PostgreSQL."""
    yield from _api(store_settings)


@pytest.fixture
def funded(api: Api) -> dict[str, Any]:
    """One rural school, one fund, one approved allocation with one expenditure."""
    api.school()
    api.fund()
    allocation = api.allocation()
    expenditure = api.expenditure(allocation["id"])
    return {"allocation": allocation, "expenditure": expenditure}
