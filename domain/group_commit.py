"""Group commit: concurrent commands share one atomic write.

The event store serialises writers (the PostgreSQL recorder locks the table per write), so
one save per request caps throughput however many clients wait. Here requests queue up; a
single committer thread takes whatever is queued (up to `batch_size_max`; waiting at most
`batch_wait_ms` for more when the last batch had company, since a lone client's write would
gain nothing from the wait but the wait), applies the commands one after another inside one
ledger batch, so two commands on the same allocation see each other, and saves them in one
transaction. Each caller is answered only once its batch is durable. A refused command fails
alone; if the batch's save itself meets a concurrent writer, its commands are taken again one
by one, so one conflict never fails its neighbours.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from domain.errors import ConcurrencyConflict, LedgerError, WriteNotStarted
from domain.ledger import FundLedger, Outcome

BATCH_SIZE_MAX = 256
BATCH_WAIT_MS = 1.0
SUBMIT_WAIT_SECONDS_MAX = 30.0


@dataclass
class QueuedWrite:
    command: Callable[[], Outcome]
    # Called by the committer thread once the request's fate is known (the committer process
    # answers a worker on its event loop from here instead of parking a thread per request).
    on_done: Callable[[QueuedWrite], None] | None = None
    done: threading.Event = field(default_factory=threading.Event)
    outcome: Outcome | None = None
    error: BaseException | None = None
    # Whoever flips `started` or `withdrawn` first under the lock decides the request's fate:
    # the committer starts it, or the caller, tired of waiting, withdraws it unstarted.
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: bool = False
    withdrawn: bool = False

    def start(self) -> bool:
        with self.lock:
            self.started = not self.withdrawn
            return self.started

    def withdraw(self) -> bool:
        with self.lock:
            self.withdrawn = not self.started
            return self.withdrawn

    def result(self) -> Outcome:
        """The outcome of a decided request, or its error raised."""
        if self.error is not None:
            raise self.error
        assert self.outcome is not None
        return self.outcome


class GroupCommit:
    def __init__(self, ledger: FundLedger, *, batch_size_max: int = BATCH_SIZE_MAX,
                 batch_wait_ms: float = BATCH_WAIT_MS) -> None:
        assert 1 <= batch_size_max <= 10_000
        assert 0 <= batch_wait_ms <= 100
        self.ledger = ledger
        self.batch_size_max = batch_size_max
        self.batch_wait_ms = batch_wait_ms
        self.batches = 0
        self.commands = 0
        self._last_batch_size = 0
        self._queue: queue.SimpleQueue[QueuedWrite | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._commit_forever, name="group-commit",
                                        daemon=True)
        self._thread.start()

    def submit(self, command: Callable[[], Outcome],
               timeout_seconds: float = SUBMIT_WAIT_SECONDS_MAX) -> Outcome:
        """Runs a ledger command in the next group; returns once it is durable."""
        request = self.enqueue(command)
        if not request.done.wait(timeout_seconds):
            if request.withdraw():
                msg = f"the write waited {timeout_seconds} s in the queue and was withdrawn unstarted"
                raise WriteNotStarted(msg)
            # Already in a batch: its fate is being decided now, and the store's own timeouts
            # bound how long that takes; answering before it is known could deny a durable write.
            request.done.wait()
        return request.result()

    async def submit_async(self, command: Callable[[], Outcome],
                           timeout_seconds: float = SUBMIT_WAIT_SECONDS_MAX) -> Outcome:
        """`submit` for a caller on an event loop (an `async` route): the loop awaits the
        committer's answer, so no thread is parked on the request. Same rules: durable before
        it returns; withdrawn unstarted after `timeout_seconds`, or else awaited to the end."""
        loop = asyncio.get_running_loop()
        decided: asyncio.Future[None] = loop.create_future()

        def settle() -> None:
            if not decided.done():
                decided.set_result(None)

        def on_done(_: QueuedWrite) -> None:
            # Called on the committer thread, which must never fail here (it answers the
            # rest of its batch after this one): a loop already closed has no one to tell.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle)

        request = self.enqueue(command, on_done)
        try:
            async with asyncio.timeout(timeout_seconds):
                await decided
        except TimeoutError:
            if request.withdraw():
                msg = f"the write waited {timeout_seconds} s in the queue and was withdrawn unstarted"
                raise WriteNotStarted(msg) from None
            # Already in a batch (see `submit`): wait for its fate, off the loop.
            await asyncio.to_thread(request.done.wait)
        return request.result()

    def enqueue(self, command: Callable[[], Outcome],
                on_done: Callable[[QueuedWrite], None] | None = None) -> QueuedWrite:
        """Queues a command without waiting: `on_done(request)` is called from the committer
        thread once it is decided (never for a request withdrawn unstarted)."""
        request = QueuedWrite(command, on_done)
        self._queue.put(request)
        return request

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _commit_forever(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            requests = [first]
            stopping = self._gather(requests)
            self._last_batch_size = len(requests)
            self._commit(requests)
            if stopping:
                return

    def _gather(self, requests: list[QueuedWrite]) -> bool:
        """Takes what is queued, waiting at most batch_wait_ms for more if the last batch had
        more than one request (others are writing: more will come); True if asked to stop."""
        wait_ms = self.batch_wait_ms if self._last_batch_size > 1 else 0.0
        deadline = time.monotonic() + wait_ms / 1000
        while len(requests) < self.batch_size_max:
            try:
                request = self._queue.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    request = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
            if request is None:
                return True
            requests.append(request)
        return False

    def _commit(self, requests: list[QueuedWrite]) -> None:
        requests = [request for request in requests if request.start()]
        try:
            with self.ledger.batch(optimistic=True):
                for request in requests:
                    try:
                        request.outcome = request.command()
                    except LedgerError as error:
                        request.error = error
        except ConcurrencyConflict:
            # Another writer touched one of this batch's aggregates: take each command alone,
            # with the ledger's own bounded retry.
            for request in requests:
                if request.error is None:
                    self._commit_alone(request)
        except Exception as error:  # the store failed: every waiting caller hears why
            for request in requests:
                if request.error is None:
                    request.outcome = None
                    request.error = error
        self.batches += 1
        self.commands += len(requests)
        for request in requests:
            request.done.set()
            if request.on_done is not None:
                request.on_done(request)

    @staticmethod
    def _commit_alone(request: QueuedWrite) -> None:
        try:
            request.outcome = request.command()
        except Exception as error:  # handed to the caller, who reports it
            request.error = error
