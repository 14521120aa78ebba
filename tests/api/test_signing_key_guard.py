"""The signing key on record (issue 14): a server with another key than the one the
bureau's digests were signed with refuses to start, until the change is recorded as a
rotation (an event: both fingerprints, who, when, why); digests signed before it still verify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from domain.signing_keys import HISTORY_ID, fingerprint
from tests.api.conftest import Api


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


def test_another_key_is_refused_until_a_rotation_is_recorded(
        stored_api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    api = stored_api
    api.school()
    settings = api.client.app.state.settings  # type: ignore[attr-defined]
    monkeypatch.setenv("FUNDLEDGER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FUNDLEDGER_POSTGRES_SCHEMA", settings.postgres_schema)
    first_key = tmp_path / "first" / "bureau.pem"
    monkeypatch.setenv("FUNDLEDGER_SIGNING_KEY_PATH", str(first_key))
    code, said = _cli("digest", "--out", str(tmp_path / "old-digest.json"))
    assert code == 0, said
    old_public = json.loads((tmp_path / "old-digest.json").read_text())["public_key"]

    # Started elsewhere, or with the key file lost: a new key would be made silently.
    monkeypatch.setenv("FUNDLEDGER_SIGNING_KEY_PATH", str(tmp_path / "second" / "bureau.pem"))
    code, said = _cli("serve", "--port", "1")
    assert code == 2, said
    assert "signing key" in said and fingerprint(old_public) in said and "keys rotate" in said
    code, said = _cli("digest")
    assert code == 2, said  # nor does it sign with it
    before = api.ledger.last_position()

    code, said = _cli("keys", "rotate", "--by", "wang.li", "--reason", "key file lost")
    assert code == 0, said
    assert api.ledger.last_position() > before
    rotated = list(api.ledger.events.get(HISTORY_ID))[-1]
    new_public = rotated.new_public_key
    assert (rotated.old_public_key, rotated.old_fingerprint) == (old_public, fingerprint(old_public))
    assert rotated.new_fingerprint == fingerprint(new_public) != fingerprint(old_public)
    assert rotated.rotated_by == "wang.li" and rotated.reason == "key file lost"
    assert rotated.timestamp is not None  # when: the event's own time
    code, said = _cli("keys", "list")
    assert code == 0 and f"{fingerprint(old_public)} earlier" in said
    assert f"{fingerprint(new_public)} current" in said

    # Now the new key starts and signs; the old digest still verifies under the old key.
    code, said = _cli("digest", "--out", str(tmp_path / "new-digest.json"))
    assert code == 0, said
    assert json.loads((tmp_path / "new-digest.json").read_text())["public_key"] == new_public
    code, said = _cli("verify", "--digest", str(tmp_path / "old-digest.json"))
    assert code == 0, said
    code, said = _cli("verify")
    assert code == 0, said

    # And the first key is refused now, unless rotated back.
    monkeypatch.setenv("FUNDLEDGER_SIGNING_KEY_PATH", str(first_key))
    code, said = _cli("digest")
    assert code == 2 and fingerprint(new_public) in said, said
