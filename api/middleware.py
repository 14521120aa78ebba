"""The layers around every request, outermost first as `create_app` adds them: the body's
size, the store's outage breaker, the last-resort 500 and the dashboard's security headers."""

from __future__ import annotations

import logging
import threading
from typing import Any

import psycopg
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import problems
from api.settings import Settings
from projections.database import postgres_connection

log = logging.getLogger("fundledger.api")
STORE_WATCH_EVERY_SECONDS = 0.5
STORE_WATCH_CONNECT_SECONDS = 2
STORE_WATCH_STOP_SECONDS_MAX = 5.0
UNAUTHENTICATED_BODY_BYTES_MAX = 64 * 1024


# Every dashboard answer (issue 14): no inline or foreign script, styles from the server (and
# the inline styles pygal's SVG carries), no framing, forms only to the dashboard itself.
DASHBOARD_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                 "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                 "frame-ancestors 'none'; form-action 'self'")


class HttpLayer:
    """A layer around the HTTP requests it `applies` to (`answer`); every other request, and
    every other kind of message (the server's lifespan), passes to the app untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def applies(self, scope: Scope) -> bool:
        del scope
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.applies(scope):
            await self.answer(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class DashboardHeaders(HttpLayer):
    """Adds Content-Security-Policy, X-Content-Type-Options: nosniff and a content type (when
    an answer has none) to every answer under /dashboard."""

    def applies(self, scope: Scope) -> bool:
        return str(scope.get("path", "")).startswith("/dashboard")

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in (b"content-security-policy",
                                                b"x-content-type-options")]
                if not any(k.lower() == b"content-type" for k, _ in headers):
                    headers.append((b"content-type", b"text/plain; charset=utf-8"))
                headers += [(b"content-security-policy", DASHBOARD_CSP.encode()),
                            (b"x-content-type-options", b"nosniff")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodySizeLimit(HttpLayer):
    """Refuses a body above `Settings.request_body_bytes_max` with 413, whether it announces
    its length or streams in chunks."""

    def __init__(self, app: ASGIApp, body_bytes_max: int) -> None:
        super().__init__(app)
        self.body_bytes_max = body_bytes_max

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or [])
        # A request with no credentials at all may send little (issue 14): it will be refused
        # 401 anyway, or it is a login form.
        credentialed = b"authorization" in headers or b"fundledger_token=" in headers.get(b"cookie", b"")
        bytes_max = self.body_bytes_max if credentialed else min(self.body_bytes_max,
                                                                 UNAUTHENTICATED_BODY_BYTES_MAX)
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > bytes_max):
            response = problems.api_problem(
                "body_too_large", f"the body may be at most {bytes_max} bytes")
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > bytes_max:
                    msg = f"the body may be at most {bytes_max} bytes"
                    raise HTTPException(413, msg)
            return message

        await self.app(scope, counting_receive, send)


class StoreOutage:
    """Whether the store is down, as a watch thread sees it: one connection of its own that
    asks `SELECT 1` every `watch_every_seconds` (and reconnects when it fails). A request
    that meets a store failure marks it down too; the watch's next success clears it.
    SQLite, a file of this process, is never down this way."""

    def __init__(self, settings: Settings,
                 watch_every_seconds: float = STORE_WATCH_EVERY_SECONDS) -> None:
        self.settings = settings
        self.watch_every_seconds = watch_every_seconds
        self.down = False
        self.trips = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def trip(self) -> None:
        if not self.down:
            self.trips += 1
        self.down = True

    def start(self) -> None:
        if self.settings.is_postgres:
            self._thread = threading.Thread(target=self._watch, name="store-watch", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(STORE_WATCH_STOP_SECONDS_MAX)

    def _watch(self) -> None:
        connection: psycopg.Connection[Any] | None = None
        while not self._stop.wait(self.watch_every_seconds):
            try:
                if connection is None or connection.closed:
                    connection = postgres_connection(self.settings, "fundledger-store-watch",
                                                     STORE_WATCH_CONNECT_SECONDS)
                connection.execute("SELECT 1")
            except psycopg.Error:
                if connection is not None:
                    connection.close()
                connection = None
                self.trip()
                continue
            self.down = False
        if connection is not None:
            connection.close()


class StoreBreaker(HttpLayer):
    """While the store is down, answers 503 at once, instead of letting each request wait out
    the driver's connection retries (the eventsourcing library retries ten times, each waiting
    for a pool connection): clients hear "retry shortly" while it is down, and requests go
    through again as soon as the watch sees it back."""

    def __init__(self, app: ASGIApp, outage: StoreOutage) -> None:
        super().__init__(app)
        self.outage = outage

    def applies(self, scope: Scope) -> bool:
        del scope
        return self.outage.down

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problems.api_problem(
            "store_unavailable", "the event store did not answer; retry shortly",
            headers={"Retry-After": str(problems.STORE_RETRY_AFTER_SECONDS)})
        await response(scope, receive, send)


class LastResort(HttpLayer):
    """An unexpected exception becomes a 500 problem without its stack trace; the trace goes
    to the log. A store that does not answer becomes 503."""

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def noting_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, noting_send)
        except Exception as error:
            if started:
                raise
            if problems.is_store_unavailable(error):
                response = problems.store_unavailable_problem(error, scope.get("app"))
            else:
                log.exception("unexpected error answering %s %s", scope.get("method"),
                              scope.get("path"))
                response = problems.api_problem("internal_error",
                                                "the request failed; the error has been logged")
            await response(scope, receive, send)
