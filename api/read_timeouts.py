"""Header and body read timeouts for `fundledger serve` (issue 14: 300 slowloris connections
stayed open 20 s).

uvicorn bounds only the idle time between keep-alive requests (`timeout_keep_alive`); a client
that sends a request's headers a byte at a time, or announces a body and sends it slowly,
holds its connection for as long as it likes. This protocol is uvicorn's httptools protocol
(the one `serve` uses) with two deadlines per request, each a timer on the event loop:

- **headers**: from the connection's opening (or a keep-alive request's first byte) until the
  headers are complete, at most `Settings.header_read_seconds`;
- **body**: from the end of the headers until the last byte of the body, at most
  `Settings.body_read_seconds`.

A client that misses one hears `408 Request Timeout` (when no answer has started) and the
connection is closed; the app sees the disconnect, and a body that never arrived completely
writes nothing. The values are read once per process from the environment
(`FUNDLEDGER_HEADER_READ_SECONDS`, `FUNDLEDGER_BODY_READ_SECONDS`), so every worker of a
multi-worker server, which imports this class by name, applies the same ones.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.settings import Settings

log = logging.getLogger("fundledger.api")
PROTOCOL = "api.read_timeouts:TimedHttpToolsProtocol"
_TIMEOUT_ANSWER = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
                   b"content-length: 0\r\nconnection: close\r\n\r\n")


@functools.cache
def read_deadlines() -> tuple[float, float]:
    """(header seconds, body seconds) of this process, read once."""
    settings = Settings()
    return settings.header_read_seconds, settings.body_read_seconds


class TimedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header-read and a body-read deadline."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(read_deadlines()[0], "headers")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._read_timer is None:  # a keep-alive connection's next request
            self._arm(read_deadlines()[0], "headers")

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()
        self._arm(read_deadlines()[1], "body")

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, seconds: float, part: str) -> None:
        self._disarm()
        self._read_timer = self.loop.call_later(seconds, self._expired, part, seconds)

    def _disarm(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _expired(self, part: str, seconds: float) -> None:
        self._read_timer = None
        if self.transport.is_closing():
            return
        log.warning("closed a connection from %s: the request's %s took longer than %s s",
                    self.client[0] if self.client else "?", part, seconds)
        # An answer already under way (a body still arriving while the app answers) is not
        # interrupted by a second one; the connection is simply closed.
        if part == "headers" or self.cycle is None or not self.cycle.response_started:
            self.transport.write(_TIMEOUT_ANSWER)
        if self.cycle is not None:
            self.cycle.keep_alive = False
        self.transport.close()
