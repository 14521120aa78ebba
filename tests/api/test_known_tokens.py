"""A server on PostgreSQL remembers the tokens it has checked (api/known_tokens.py) and forgets
them all when any process commits an access change; while it cannot hear such changes it
checks every token in the store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from api.known_tokens import CHANNEL, KnownTokens
from api.settings import Settings
from domain.ledger import FundLedger
from tests.api.conftest import Api, _api
from tests.conftest import TODAY

pytestmark = pytest.mark.postgres

HEARING_WAIT_SECONDS_MAX = 5.0


@pytest.fixture
def pg_api(postgres_settings: Settings) -> Iterator[Api]:
    yield from _api(postgres_settings)


def known_tokens(api: Api) -> KnownTokens:
    known: KnownTokens = api.client.app.state.known_tokens  # type: ignore[attr-defined]
    deadline = time.monotonic() + HEARING_WAIT_SECONDS_MAX
    while not known.listening:
        assert time.monotonic() < deadline, "the access listener never connected"
        time.sleep(0.02)
    return known


def counting_checks(api: Api, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each token the ledger checks in the store."""
    checked: list[str] = []
    authenticate = api.ledger.authenticate

    def check(token: str) -> Any:
        checked.append(token)
        return authenticate(token)

    monkeypatch.setattr(api.ledger, "authenticate", check)
    return checked


def wait_for_forgetting(known: KnownTokens, generation: int) -> None:
    deadline = time.monotonic() + HEARING_WAIT_SECONDS_MAX
    while known.generation == generation:
        assert time.monotonic() < deadline, "the access change was never heard"
        time.sleep(0.005)


def test_a_checked_token_is_remembered(pg_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    known_tokens(pg_api)
    checked = counting_checks(pg_api, monkeypatch)
    for _ in range(3):
        pg_api.ok(pg_api.get("reader", "/v1/schools"))
    assert len(checked) == 1


def test_a_revocation_by_another_process_is_heard_and_refused(
        pg_api: Api, postgres_settings: Settings) -> None:
    known = known_tokens(pg_api)
    pg_api.ok(pg_api.get("officer", "/v1/schools"))  # remembered now
    generation = known.generation

    other = FundLedger(env=postgres_settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        assert other.revoke_user("user.officer") == 1
    finally:
        other.close()
    wait_for_forgetting(known, generation)

    refused = pg_api.get("officer", "/v1/schools")
    assert refused.status_code == 401
    assert refused.json()["code"] == "unknown_token"
    pg_api.ok(pg_api.get("reader", "/v1/schools"))  # other tokens still work, checked afresh


def test_a_new_token_or_user_elsewhere_also_makes_the_server_forget(
        pg_api: Api, postgres_settings: Settings) -> None:
    known = known_tokens(pg_api)
    generation = known.generation
    other = FundLedger(env=postgres_settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        other.add_user("user.new", ["reader"])
    finally:
        other.close()
    wait_for_forgetting(known, generation)


def test_other_events_do_not_make_the_server_forget(pg_api: Api) -> None:
    known = known_tokens(pg_api)
    # The fixture's own users may still be being heard: wait until nothing arrives for a while.
    generation = -1
    while known.generation != generation:
        generation = known.generation
        time.sleep(0.3)
    pg_api.school()
    pg_api.fund()
    time.sleep(0.2)
    assert known.generation == generation


def test_without_the_listener_every_token_is_checked_in_the_store(
        pg_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    known = known_tokens(pg_api)
    known.stop()
    deadline = time.monotonic() + HEARING_WAIT_SECONDS_MAX
    while known.listening:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    checked = counting_checks(pg_api, monkeypatch)
    for _ in range(3):
        pg_api.ok(pg_api.get("reader", "/v1/schools"))
    assert len(checked) == 3


def test_an_unknown_token_is_never_remembered(pg_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    known_tokens(pg_api)
    checked = counting_checks(pg_api, monkeypatch)
    headers = {"Authorization": "Bearer not-a-token"}
    for _ in range(2):
        assert pg_api.client.get("/v1/schools", headers=headers).status_code == 401
    assert len(checked) == 2


def test_a_role_change_through_this_server_is_forgotten_before_the_next_request(
        pg_api: Api) -> None:
    """Not waiting for the notification: under load it arrived after the next request, which
    was still answered with the roles the user no longer had (a flaky CI run found it)."""
    known = known_tokens(pg_api)
    token = pg_api.ledger.add_user("chg", ["approver"])
    # Deaf from here on: only this server's own hook can make it forget.
    known.stop()
    known._listening = True  # as connected, but hearing nothing
    pg_api.ok(pg_api.client.get("/v1/schools", headers={"Authorization": f"Bearer {token}"}))
    assert known.remembered(token) is not None
    pg_api.ledger.add_user("chg", ["reader"])
    assert known.remembered(token) is None
    pg_api.ok(pg_api.client.get("/v1/schools", headers={"Authorization": f"Bearer {token}"}))
    actor = known.remembered(token)
    assert actor is not None and [r.value for r in actor.roles] == ["reader"]
    pg_api.school()  # a save with no access event forgets nothing
    assert known.remembered(token) == actor


def test_another_schemas_access_changes_do_not_make_the_server_forget(
        pg_api: Api, postgres_settings: Settings) -> None:
    """The channel is the database's; each bureau's books are a schema of it. A notice naming
    another schema is not this server's; one naming its own, sent after it, is heard."""
    known = known_tokens(pg_api)
    generation = -1
    while known.generation != generation:
        generation = known.generation
        time.sleep(0.3)
    with psycopg.connect(postgres_settings.database_url, autocommit=True) as connection, \
            connection.transaction():  # delivered together, in this order
        connection.execute("SELECT pg_notify(%s, %s)", (CHANNEL, "another_bureau"))
        connection.execute("SELECT pg_notify(%s, %s)", (CHANNEL, postgres_settings.postgres_schema))
    wait_for_forgetting(known, generation)
    time.sleep(0.2)
    assert known.generation == generation + 1
