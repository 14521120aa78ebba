"""A worker's side of the committer (api/committer.py): `CommitterClient.submit(command)` stands
where the worker's own group commit stood (api/commands.py `execute_async`), so the routes do not
change. One Unix-socket connection per worker carries every in-flight command at once; a
reader thread hands each answer to the request waiting for it.

If the committer is gone (killed, restarting), every request waiting on it and every new one
is answered 503 `store_unavailable` — whether a write in flight was saved is unknown, and a
retry with the same Idempotency-Key is safe either way. The next request connects again.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import pickle
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from api.committer import FRAME_HEADER_BYTES, decode, encode, frame_header
from domain.errors import LedgerError
from domain.group_commit import SUBMIT_WAIT_SECONDS_MAX
from domain.ledger import Outcome

# Beyond the committer's own queue bound: a started batch is always answered, and the store's
# timeouts bound it; a committer that says nothing for this long is treated as gone.
ANSWER_WAIT_SECONDS_MAX = SUBMIT_WAIT_SECONDS_MAX + 60.0
CONNECT_WAIT_SECONDS_MAX = 2.0

log = logging.getLogger("fundledger.committer")


class CommitterUnavailable(LedgerError):
    """The committer process did not answer: 503, retry (same key) shortly."""

    code = "store_unavailable"
    title = "The event store is unavailable; retry shortly"


class _Link:
    """One connection to the committer and the requests waiting for an answer on it."""

    def __init__(self, socket_path: str, on_lost: Callable[[_Link], None]) -> None:
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.socket.settimeout(CONNECT_WAIT_SECONDS_MAX)
        self.socket.connect(socket_path)
        self.socket.settimeout(None)
        self.pending: dict[int, Future[tuple[Any, BaseException | None]]] = {}
        self.lock = threading.Lock()  # pending, and one frame at a time on the socket
        self.lost = False
        self._on_lost = on_lost
        threading.Thread(target=self._read_answers, name="committer-answers", daemon=True).start()

    def send(self, request_id: int, frame: bytes) -> Future[tuple[Any, BaseException | None]]:
        future: Future[tuple[Any, BaseException | None]] = Future()
        with self.lock:
            if self.lost:
                raise CommitterUnavailable("the connection to the committer was lost")
            self.pending[request_id] = future
            try:
                self.socket.sendall(frame)
            except OSError as error:
                self.pending.pop(request_id, None)
                msg = f"the committer could not be reached: {error}"
                raise CommitterUnavailable(msg) from error
        return future

    def _read_answers(self) -> None:
        reading = self.socket.makefile("rb")
        try:
            while True:
                header = reading.read(FRAME_HEADER_BYTES)
                if len(header) < FRAME_HEADER_BYTES:
                    break
                size, request_id = frame_header(header)
                body = reading.read(size)
                if len(body) < size:
                    break
                with self.lock:
                    future = self.pending.pop(request_id, None)
                if future is not None:
                    future.set_result(decode(body))
        except (OSError, ValueError, pickle.UnpicklingError) as error:
            log.warning("the connection to the committer failed: %s", error)
        finally:
            self._lose()

    def _lose(self) -> None:
        with self.lock:
            self.lost = True
            waiting, self.pending = self.pending, {}
        self._on_lost(self)
        self.socket.close()
        for future in waiting.values():
            future.set_exception(CommitterUnavailable(
                "the committer went away before answering; the write may or may not have "
                "been saved: retry with the same Idempotency-Key"))


def _late(timeout_seconds: float) -> CommitterUnavailable:
    return CommitterUnavailable(f"the committer did not answer within {timeout_seconds} s")


def _outcome(answer: tuple[Any, BaseException | None]) -> Outcome:
    outcome, error = answer
    if error is not None:
        raise error
    assert isinstance(outcome, Outcome)
    return outcome


class CommitterClient:
    """Submits a worker's ledger commands to the committer; the same `submit` as GroupCommit."""

    def __init__(self, socket_path: str, ledger: Any) -> None:
        self.socket_path = socket_path
        self.ledger = ledger  # travels as a reference: the committer's own ledger runs the command
        self._ids = itertools.count(1)
        self._link: _Link | None = None
        self._lock = threading.Lock()
        self._run_here: set[str] = set()

    def submit(self, command: Callable[[], Outcome],
               timeout_seconds: float = ANSWER_WAIT_SECONDS_MAX) -> Outcome:
        request_id, frame = self._framed(command)
        if isinstance(frame, Exception):
            return self._here(command, frame)
        future = self._connected().send(request_id, frame)
        try:
            answer = future.result(timeout_seconds)
        except FutureTimeout as late:
            raise _late(timeout_seconds) from late
        return _outcome(answer)

    async def submit_async(self, command: Callable[[], Outcome],
                           timeout_seconds: float = ANSWER_WAIT_SECONDS_MAX) -> Outcome:
        """`submit` for an `async` route: the event loop awaits the answer (no thread parked
        per request). Connecting, and a command that cannot travel, stay off the loop."""
        request_id, frame = self._framed(command)
        if isinstance(frame, Exception):
            return await asyncio.to_thread(self._here, command, frame)
        link = self._link
        if link is None or link.lost:
            link = await asyncio.to_thread(self._connected)
        future = link.send(request_id, frame)
        try:
            async with asyncio.timeout(timeout_seconds):
                answer = await asyncio.wrap_future(future)
        except TimeoutError as late:
            raise _late(timeout_seconds) from late
        return _outcome(answer)

    def _framed(self, command: Callable[[], Outcome]) -> tuple[int, bytes | Exception]:
        """The command's request id and frame, or why it cannot travel."""
        request_id = next(self._ids)
        try:
            return request_id, encode(request_id, command, self.ledger)
        except (pickle.PicklingError, TypeError, AttributeError) as error:
            return request_id, error

    def _here(self, command: Callable[[], Outcome], error: Exception) -> Outcome:
        """A command that cannot travel (a route still passing a lambda) is run by the worker
        itself, as before the committer: optimistic concurrency keeps it right, but it is a
        second writer, so it is logged once per command."""
        name = getattr(command, "__qualname__", repr(command))
        if name not in self._run_here:
            self._run_here.add(name)
            log.warning("%s cannot be sent to the committer (%s); the worker runs it", name, error)
        return command()

    def _connected(self) -> _Link:
        with self._lock:
            if self._link is None or self._link.lost:
                try:
                    self._link = _Link(self.socket_path, self._forget)
                except OSError as error:
                    msg = f"the committer is not listening: {error}"
                    raise CommitterUnavailable(msg) from error
            return self._link

    def _forget(self, link: _Link) -> None:
        with self._lock:
            if self._link is link:
                self._link = None

    def close(self) -> None:
        with self._lock:
            link, self._link = self._link, None
        if link is not None:
            link.socket.shutdown(socket.SHUT_RDWR)
