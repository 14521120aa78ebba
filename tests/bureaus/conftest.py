"""A city bureau with two county-level bureaus, each with books of its own, served by one
API: on SQLite (a file per bureau) and on PostgreSQL (a schema per bureau)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app
from api.settings import Settings
from api.store import open_bureau_ledger, open_registry
from tests.conftest import TODAY

CITY, TONGSHAN, PEI = "XZ", "XZ-TS", "XZ-PX"
YEAR = TODAY.year
# (bureau, user, role)
USERS = (
    (TONGSHAN, "ts.officer", "officer"), (TONGSHAN, "ts.approver", "approver"),
    (TONGSHAN, "ts.auditor", "auditor"),
    (PEI, "px.officer", "officer"), (PEI, "px.approver", "approver"), (PEI, "px.auditor", "auditor"),
    (CITY, "xz.auditor", "auditor"), (CITY, "xz.reader", "reader"),
)


@dataclass
class City:
    client: TestClient
    settings: Settings
    tokens: dict[str, str]

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, user: str, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.headers(user))

    def post(self, user: str, path: str, body: Any = None) -> Any:
        return self.client.post(path, json=body if body is not None else {}, headers=self.headers(user))

    def ok(self, response: Any, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json()

    def books(self, bureau: str, school: str, district: str, locale: str, students: int,
              amount: int, spent: int) -> dict[str, Any]:
        """One school, one fund, one approved allocation and one expenditure in `bureau`."""
        prefix = f"/v1/bureaus/{bureau}"
        officer, approver = f"{_short(bureau)}.officer", f"{_short(bureau)}.approver"
        self.ok(self.post(officer, f"{prefix}/schools", {
            "code": school, "name": f"{district}{school}小学", "district": district,
            "level": "primary", "locale": locale, "poverty_area": False, "students": students,
            "effective_date": f"{YEAR}-01-02"}), 201)
        fund = f"{bureau}-PUB"
        self.ok(self.post(officer, f"{prefix}/funds", {
            "code": fund, "name": "中央转移支付 生均公用经费", "fiscal_year": YEAR, "unit": "CNY",
            "amount": amount * 2, "source": "central", "category": "public_operating",
            "earmark": "none", "effective_date": f"{YEAR}-01-02"}), 201)
        proposed = self.ok(self.post(officer, f"{prefix}/allocations", {
            "fund": fund, "school": school, "amount": amount, "purpose": "春季公用经费",
            "effective_date": f"{YEAR}-03-01"}), 201)
        allocation = self.ok(self.post(approver, f"{prefix}/allocations/{proposed['id']}/approve",
                                       {"effective_date": f"{YEAR}-03-02"}))
        expenditure = self.ok(self.post(officer, f"{prefix}/expenditures", {
            "allocation": allocation["id"], "amount": spent, "payee": "供电公司",
            "voucher": f"{bureau}-V1", "spent_on": f"{YEAR}-04-01", "description": "电费"}), 201)
        return {"school": school, "fund": fund, "allocation": allocation["id"],
                "expenditure": expenditure["id"], "position": expenditure["position"]}


def _short(bureau: str) -> str:
    return {TONGSHAN: "ts", PEI: "px", CITY: "xz"}[bureau]


def _drop_bureau_schemas(settings: Settings) -> None:
    with psycopg.connect(settings.database_url, autocommit=True) as connection:
        for (schema,) in connection.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s",
                (settings.postgres_schema + "\\_b\\_%",)).fetchall():
            connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def register_city(settings: Settings) -> None:
    """The city and its two county-level bureaus, in the registry of `settings`' store."""
    registry = open_registry(settings)
    try:
        registry.add(CITY, "徐州市教育局", "city")
        registry.add(TONGSHAN, "铜山区教育局", "county", CITY)
        registry.add(PEI, "沛县教育局", "county", CITY)
    finally:
        registry.close()


@pytest.fixture
def city_settings(store_settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    settings = store_settings.model_copy(update={
        "bureau": CITY, "signing_key_path": tmp_path / "keys" / "bureau-signing-key.pem"})
    register_city(settings)
    yield settings
    if settings.is_postgres:
        _drop_bureau_schemas(settings)


def add_users(settings: Settings) -> dict[str, str]:
    """Each bureau's users (USERS), in its own books; their tokens by user."""
    tokens = {}
    for bureau, user, role in USERS:
        ledger = open_bureau_ledger(settings, bureau, clock=lambda: TODAY)
        try:
            tokens[user] = ledger.add_user(user, [role])
        finally:
            ledger.close()
    return tokens


@pytest.fixture
def city(city_settings: Settings) -> Iterator[City]:
    tokens = add_users(city_settings)
    app = create_app(city_settings, clock=lambda: TODAY)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield City(client, city_settings, tokens)


@pytest.fixture
def operator(city_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[City]:
    """The city's store as the CLI's environment names it; a school's year of books in
    Tongshan only, so that each bureau's event count differs. The server is stopped before
    the verbs run, as an operator stops it for `rebuild` or `migrate`."""
    tokens = add_users(city_settings)
    with TestClient(create_app(city_settings, clock=lambda: TODAY)) as client:
        city = City(client, city_settings, tokens)
        city.books(TONGSHAN, "TS-0001", "铜山区", "rural", 300, 1_000_000, 250_000)
    monkeypatch.setenv("FUNDLEDGER_DATABASE_URL", city_settings.database_url)
    monkeypatch.setenv("FUNDLEDGER_POSTGRES_SCHEMA", city_settings.postgres_schema)
    monkeypatch.setenv("FUNDLEDGER_BUREAU", CITY)
    monkeypatch.setenv("FUNDLEDGER_SIGNING_KEY_PATH", str(city_settings.signing_key_path))
    yield city


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def verified(out: str) -> int:
    found = re.search(r"ok: ([\d,]+) events verified", out)
    assert found is not None, out
    return int(found.group(1).replace(",", ""))
