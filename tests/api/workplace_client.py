"""Working in the dashboard's workplace over plain HTTP: log in as a role (a real session),
open a form, and submit it with the form's own CSRF token and idempotency key."""

from __future__ import annotations

import re
from typing import Any

from tests.api.conftest import Api


def log_in(api: Api, role: str) -> None:
    api.client.cookies.clear()
    answer = api.client.post("/dashboard/login", data={"token": api.tokens[role],
                                                      "next": "/dashboard/work"},
                             follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert "fundledger_session" in api.client.cookies


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no {name} in the page"
    return found.group(1)


def open_form(api: Api, path: str, **params: Any) -> dict[str, str]:
    """The form's guard fields: its CSRF token and its idempotency key."""
    page = api.client.get(path, params=params)
    assert page.status_code == 200, page.text
    return {"csrf_token": hidden(page.text, "csrf_token"),
            "idempotency_key": hidden(page.text, "idempotency_key")}


def submit(api: Api, path: str, fields: dict[str, Any], guard: dict[str, str] | None = None
           ) -> Any:
    guard = open_form(api, path) if guard is None else guard
    return api.client.post(path, data={**guard, **fields}, follow_redirects=False)


def written_position(page: str) -> int:
    found = re.search(r'id="written" data-position="(\d+)"', page)
    assert found, page
    return int(found.group(1))


def field_error(page: str, name: str) -> str:
    found = re.search(rf'id="{name}-error" role="alert">([^<]*)<', page)
    assert found, f"no message beside {name}"
    return found.group(1)
