"""`fundledger bureaus add|list` and `users add --bureau` (issue 15, contract), on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.settings import Settings
from api.store import open_bureau_ledger
from domain.access import token_bureau
from tests.bureaus.conftest import _drop_bureau_schemas


@pytest.fixture
def environment(store_settings: Settings, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    settings = store_settings.model_copy(update={
        "bureau": "XZ", "signing_key_path": tmp_path / "keys" / "bureau-signing-key.pem"})
    monkeypatch.setenv("FUNDLEDGER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FUNDLEDGER_POSTGRES_SCHEMA", settings.postgres_schema)
    monkeypatch.setenv("FUNDLEDGER_BUREAU", "XZ")
    monkeypatch.setenv("FUNDLEDGER_SIGNING_KEY_PATH", str(settings.signing_key_path))
    yield settings
    if settings.is_postgres:
        _drop_bureau_schemas(settings)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_bureaus_are_added_listed_and_given_users(environment: Settings) -> None:
    assert run("bureaus", "add", "XZ", "--name", "徐州市教育局", "--level", "city")[0] == 0
    code, out = run("bureaus", "add", "XZ-TS", "--name", "铜山区教育局", "--parent", "XZ")
    assert code == 0, out
    assert "county under XZ" in out
    code, out = run("bureaus", "list")
    assert out.splitlines() == ["XZ\tcity\t-\t徐州市教育局 (default)", "XZ-TS\tcounty\tXZ\t铜山区教育局"]
    code, out = run("users", "add", "li.officer", "--role", "officer", "--bureau", "XZ-TS")
    assert code == 0, out
    token = out.strip().splitlines()[-1]
    assert token_bureau(token) == "XZ-TS"
    ledger = open_bureau_ledger(environment, "XZ-TS")
    try:
        assert ledger.authenticate(token).user_id == "li.officer"
    finally:
        ledger.close()
    code, out = run("users", "add", "wang.auditor", "--role", "auditor", "--bureau", "XZ")
    assert code == 0, out
    assert token_bureau(out.strip().splitlines()[-1]) is None  # the default bureau's token


def test_bad_bureaus_are_refused_in_one_line(environment: Settings) -> None:
    run("bureaus", "add", "XZ", "--name", "徐州市教育局", "--level", "city")
    run("bureaus", "add", "YT", "--name", "烟台市教育局", "--level", "city")
    run("bureaus", "add", "XZ-TS", "--name", "铜山区教育局", "--parent", "XZ")
    for args, code_text in (
            (("bureaus", "add", "XZ-TS", "--name", "铜山区教育局", "--parent", "YT"),
             "bureau_parent_conflict"),
            (("bureaus", "add", "XZ-PX", "--name", "沛县教育局", "--parent", "NOPE"), "bureau_not_found"),
            (("users", "add", "x", "--role", "officer", "--bureau", "XZ"), "invalid_input"),
            (("users", "add", "x", "--role", "reader", "--bureau", "NOPE"), "bureau_not_found")):
        code, out = run(*args)
        assert code == 2, out
        assert code_text in out, out
