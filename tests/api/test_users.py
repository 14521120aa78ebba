"""Roles are the user's, not the token's (issue 14, defect 3), and the admin's HTTP face."""

from __future__ import annotations

import time

from typer.testing import CliRunner

from api.cli import app
from tests.api.conftest import Api

ROLE_CHANGE_BOUND_SECONDS = 2.0  # revocation reaches every server well under a second


def _eventually(api: Api, token: str, path: str, body: dict[str, object], status: int) -> int:
    """The status the token gets, polling (bounded) until it is `status`."""
    deadline = time.monotonic() + ROLE_CHANGE_BOUND_SECONDS
    while True:
        got = api.client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
        if got.status_code == status or time.monotonic() > deadline:
            return int(got.status_code)
        time.sleep(0.05)


def test_a_role_change_takes_the_power_from_every_old_token(stored_api: Api) -> None:
    """Defect 3: `users add chg --role approver`, then `users add chg --role reader`: the old
    token still approved (200). A token's powers were copied onto it at issue."""
    api = stored_api
    api.school()
    api.fund()
    first = api.allocation(approve=False)
    second = api.allocation(approve=False)
    old = api.ledger.add_user("chg", ["approver"])
    approved = api.client.post(f"/v1/allocations/{first['id']}/approve", json={},
                               headers={"Authorization": f"Bearer {old}"})
    assert approved.status_code == 200, approved.text
    api.ledger.add_user("chg", ["reader"])
    path = f"/v1/allocations/{second['id']}/approve"
    before = api.ledger.last_position()
    assert _eventually(api, old, path, {}, 403) == 403
    assert api.ledger.last_position() == before
    # And back: the same old token approves again once the user is an approver again.
    api.ledger.add_user("chg", ["approver"])
    assert _eventually(api, old, path, {}, 200) == 200


def test_the_admin_adds_lists_and_revokes_users_over_http(stored_api: Api) -> None:
    api = stored_api
    added = api.ok(api.post("admin", "/v1/users", {"name": "new.reader", "roles": ["reader"]}), 201)
    assert (added["name"], added["roles"], added["tokens"]) == ("new.reader", ["reader"], 1)
    token = added["token"]
    assert api.client.get("/v1/funds", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    listed = api.ok(api.get("admin", "/v1/users"))
    assert {"name": "new.reader", "roles": ["reader"], "tokens": 1, "schools": []} in listed["items"]
    assert "token" not in listed["items"][0]
    revoked = api.ok(api.post("admin", "/v1/users/new.reader/revoke", {}))
    assert revoked == {"name": "new.reader", "revoked": 1}
    deadline = time.monotonic() + ROLE_CHANGE_BOUND_SECONDS
    status = 200
    while status != 401 and time.monotonic() < deadline:
        status = api.client.get("/v1/funds", headers={"Authorization": f"Bearer {token}"}).status_code
    assert status == 401
    unknown = api.post("admin", "/v1/users/nobody.here/revoke", {})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "user_not_found")
    bad = api.post("admin", "/v1/users", {"name": "x", "roles": ["emperor"]})
    assert bad.status_code == 422
    none = api.post("admin", "/v1/users", {"name": "x", "roles": []})
    assert none.status_code == 422


def test_users_list_on_the_command_line(api: Api, monkeypatch: object) -> None:
    settings = api.client.app.state.settings  # type: ignore[attr-defined]
    monkeypatch.setenv("FUNDLEDGER_DATABASE_URL", settings.database_url)  # type: ignore[attr-defined]
    result = CliRunner().invoke(app, ["users", "list"])
    assert result.exit_code == 0, result.output
    assert "user.approver\tapprover\t1 token(s)" in result.output
