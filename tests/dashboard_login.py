"""Logging in to the dashboard as a browser does: the login form, whose answer sets the token
cookie and the session (which expires; api/dashboard/workplace/session.py)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import httpx


def dashboard_login(client: Any, token: str) -> None:
    """A TestClient logged in with `token`, its earlier cookies dropped."""
    client.cookies.clear()
    answer = client.post("/dashboard/login", data={"token": token}, follow_redirects=False)
    assert answer.status_code == 303 and "failed" not in answer.headers["location"], answer.text


@lru_cache(maxsize=64)
def _session_cookies(url: str, token: str) -> tuple[tuple[str, str], ...]:
    answer = httpx.post(f"{url}/dashboard/login", data={"token": token}, timeout=30)
    assert answer.status_code == 303 and "failed" not in answer.headers["location"], answer.text
    return tuple(answer.cookies.items())


def dashboard_cookies(url: str, token: str) -> dict[str, str]:
    """The cookies a browser holds after logging in to the server at `url` (one login per
    token and server)."""
    return dict(_session_cookies(url, token))


def page_in_both_languages(client: Any, token: str, path: str) -> tuple[str, str]:
    """A dashboard page as a TestClient logged in with `token` reads it in Chinese, then in
    English; the client's cookies are dropped after."""
    try:
        dashboard_login(client, token)
        client.cookies.set("fundledger_lang", "zh", path="/dashboard")
        chinese = client.get(path).text
        client.cookies.set("fundledger_lang", "en", path="/dashboard")
        english = client.get(path).text
    finally:
        client.cookies.clear()
    return chinese, english
