"""The dashboard's session and its CSRF token.

Login keeps the API token in an HttpOnly cookie (api/dashboard/session.py); beside it goes a
session cookie `issued.nonce.mac`, an HMAC over the token's hash, the time of login and a
random nonce, under a key kept beside the bureau's signing key (never in the database). The
session ends `dashboard_session_seconds_max` after login whatever the browser keeps, and a
session cookie is worth nothing with any other token.

Every state-changing request of the workplace carries `csrf_token`, an HMAC of the session
cookie: a page of another site cannot read it, so a forged form is refused even where a
browser would send a SameSite cookie (a sibling subdomain, an old browser).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request, Response

from domain.snapshot_seal import load_or_create_key

SESSION_COOKIE = "fundledger_session"
CSRF_FIELD = "csrf_token"
SESSION_KEY_FILE = "dashboard-session.key"
NONCE_BYTES = 16
SESSION_COOKIE_LENGTH_MAX = 200


@lru_cache(maxsize=8)
def _key(signing_key_path: Path) -> bytes:
    return load_or_create_key(signing_key_path.parent / SESSION_KEY_FILE)


def _server_settings(request: Request) -> Any:
    """The server's own settings: a session outlives stepping from one bureau's books into
    another's (issue 15), whose settings (and keys) are each bureau's own."""
    books = getattr(request.app.state, "bureaus", None)
    return books.settings if books is not None else request.app.state.settings


def _session_key(request: Request) -> bytes:
    return _key(_server_settings(request).signing_key_path)


def _mac(key: bytes, *parts: str) -> str:
    return hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(request: Request, response: Response, token: str) -> None:
    """After a successful login: a new session (a new nonce, so a new CSRF token)."""
    issued = str(int(time.time()))
    nonce = secrets.token_hex(NONCE_BYTES)
    value = f"{issued}.{nonce}.{_mac(_session_key(request), 'session', _token_digest(token), issued, nonce)}"
    response.set_cookie(SESSION_COOKIE, value, max_age=lifetime_seconds(request), httponly=True,
                        samesite="strict", path="/dashboard",
                        secure=request.url.scheme == "https")


def end(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/dashboard")


def lifetime_seconds(request: Request) -> int:
    return int(_server_settings(request).dashboard_session_seconds_max)


def current(request: Request, token: str) -> str | None:
    """The session cookie when it belongs to this token and has not expired, else None."""
    value = request.cookies.get(SESSION_COOKIE, "")
    if not value or len(value) > SESSION_COOKIE_LENGTH_MAX or value.count(".") != 2:
        return None
    issued, nonce, mac = value.split(".")
    if not issued.isdigit():
        return None
    expected = _mac(_session_key(request), "session", _token_digest(token), issued, nonce)
    if not hmac.compare_digest(mac, expected):
        return None
    age_seconds = time.time() - int(issued)
    if not 0 <= age_seconds < lifetime_seconds(request):
        return None
    return value


def csrf_token(request: Request, session: str) -> str:
    return _mac(_session_key(request), "csrf", session)


def csrf_holds(request: Request, session: str, sent: str) -> bool:
    return bool(sent) and hmac.compare_digest(sent.encode(), csrf_token(request, session).encode())
