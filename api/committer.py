"""The committer: with several HTTP workers (`fundledger serve --workers N`), one process owns
the ledger's writes. Workers parse, authenticate and validate; each sends the command it would
have run — the ledger's bound method with its arguments, pickled — over a local Unix socket,
and this process runs it through its one group commit, so the commands of every worker share
one batch and one save, and the store has one writer.

The wire: frames of a 4-byte big-endian length, an 8-byte request id and a pickle. A worker
sends the command; the ledger inside it travels as a reference (`LEDGER_REF`) and is this
process's own ledger on arrival. The answer, under the same id, is `(outcome, error)`:
the command's `Outcome` (its aggregates, by value) or the exception it raised, so a refusal
reaches the worker as the same `LedgerError` and answers the same problem+json. Many requests
are in flight on one connection at once, answered as their batches become durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from eventsourcing.persistence import OperationalError as PersistenceOperationalError

from api.problems import is_store_unavailable
from api.server_processes import child_environment, end, end_with_server, exited
from api.settings import Settings
from api.store import open_ledger
from domain.errors import WriteNotStarted
from domain.group_commit import SUBMIT_WAIT_SECONDS_MAX, GroupCommit, QueuedWrite
from domain.ledger import FundLedger
from projections.garbage_collection import tune_collector

COMMITTER_SOCKET_ENV = "FUNDLEDGER_COMMITTER_SOCKET"
LEDGER_REF = "ledger"
SIZE_BYTES = 4
ID_BYTES = 8
FRAME_HEADER_BYTES = SIZE_BYTES + ID_BYTES
FRAME_BYTES_MAX = 64 * 1024 * 1024  # a tranche of 2,000 allocations answers in ~2 MB
PARENT_CHECK_SECONDS = 1.0
START_WAIT_SECONDS_MAX = 60.0
STOP_WAIT_SECONDS_MAX = 15.0
RESTARTS_MAX = 5  # within RESTART_WINDOW_SECONDS; beyond that the server gives up
RESTART_WINDOW_SECONDS = 60.0

log = logging.getLogger("fundledger.committer")


# ------------------------------------------------------------------------------- the wire

class LedgerPickler(pickle.Pickler):
    """Pickles a command with `ledger` sent as a reference, and exceptions by class, args and
    attributes (a refusal whose `__init__` takes other arguments still travels)."""

    def __init__(self, file: io.BytesIO, ledger: Any) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.ledger = ledger

    def persistent_id(self, obj: Any) -> str | None:
        return LEDGER_REF if obj is self.ledger and obj is not None else None

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, BaseException):
            return _rebuilt_error, (type(obj), obj.args, dict(vars(obj)))
        return NotImplemented


class LedgerUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, ledger: Any) -> None:
        super().__init__(file)
        self.ledger = ledger

    def persistent_load(self, pid: Any) -> Any:
        if pid != LEDGER_REF or self.ledger is None:
            msg = f"unknown reference {pid!r} on the committer's wire"
            raise pickle.UnpicklingError(msg)
        return self.ledger


def _rebuilt_error(kind: type[BaseException], args: tuple[Any, ...],
                   attributes: dict[str, Any]) -> BaseException:
    error = kind.__new__(kind)
    error.args = args
    error.__dict__.update(attributes)
    return error


def encode(request_id: int, message: Any, ledger: Any = None) -> bytes:
    """One frame: the pickle's length, the request's id, the pickle."""
    buffer = io.BytesIO()
    buffer.write(b"\0" * FRAME_HEADER_BYTES)
    LedgerPickler(buffer, ledger).dump(message)
    size = buffer.tell() - FRAME_HEADER_BYTES
    if size > FRAME_BYTES_MAX:
        msg = f"a committer message of {size} bytes is over the {FRAME_BYTES_MAX} bytes allowed"
        raise ValueError(msg)
    view = buffer.getbuffer()
    view[:SIZE_BYTES] = size.to_bytes(SIZE_BYTES, "big")
    view[SIZE_BYTES:FRAME_HEADER_BYTES] = request_id.to_bytes(ID_BYTES, "big")
    del view
    return buffer.getvalue()


def decode(body: bytes, ledger: Any = None) -> Any:
    return LedgerUnpickler(io.BytesIO(body), ledger).load()


def frame_header(header: bytes) -> tuple[int, int]:
    """(the pickle's size, the request's id) of a frame's header."""
    size = int.from_bytes(header[:SIZE_BYTES], "big")
    if size > FRAME_BYTES_MAX:
        msg = f"a committer frame of {size} bytes is over the {FRAME_BYTES_MAX} bytes allowed"
        raise ValueError(msg)
    return size, int.from_bytes(header[SIZE_BYTES:], "big")


# ----------------------------------------------------------------------- the process

class Committer:
    """Serves the workers' commands on `socket_path` through one group commit."""

    def __init__(self, ledger: FundLedger, socket_path: str) -> None:
        self.ledger = ledger
        self.socket_path = socket_path
        self.group = GroupCommit(ledger)

    async def serve(self, stop: asyncio.Event) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket_path)
        server = await asyncio.start_unix_server(self._connection, path=self.socket_path)
        os.chmod(self.socket_path, 0o600)  # the workers run as this user; nobody else writes
        async with server:
            await stop.wait()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                size, request_id = frame_header(await reader.readexactly(FRAME_HEADER_BYTES))
                body = await reader.readexactly(size)
                try:
                    command = decode(body, self.ledger)
                except Exception as error:
                    self._answer(writer, request_id, None, error)
                    continue
                self._start(loop, writer, request_id, command)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the worker went away; what it had queued is still decided and saved
        finally:
            writer.close()

    def _start(self, loop: asyncio.AbstractEventLoop, writer: asyncio.StreamWriter,
               request_id: int, command: Any) -> None:
        def tired() -> None:  # the queue's bound, as GroupCommit.submit has it
            if queued.withdraw():
                msg = (f"the write waited {SUBMIT_WAIT_SECONDS_MAX} s in the queue and was "
                       "withdrawn unstarted")
                self._answer(writer, request_id, None, WriteNotStarted(msg))

        bound = loop.call_later(SUBMIT_WAIT_SECONDS_MAX, tired)

        def decided(request: QueuedWrite) -> None:  # on the committer thread
            loop.call_soon_threadsafe(bound.cancel)
            loop.call_soon_threadsafe(self._answer, writer, request_id, request.outcome,
                                      request.error)

        queued = self.group.enqueue(command, decided)

    @staticmethod
    def _answer(writer: asyncio.StreamWriter, request_id: int, outcome: Any,
                error: BaseException | None) -> None:
        if writer.is_closing():
            return
        try:
            frame = encode(request_id, (outcome, error))
        except Exception as failure:  # an error holding a connection, say: its text travels
            text = f"{type(error or failure).__name__}: {error or failure}"
            # A store that did not answer stays a 503 in the worker, as it is in one process.
            stand_in = (PersistenceOperationalError
                        if error is not None and is_store_unavailable(error) else RuntimeError)
            frame = encode(request_id, (None, stand_in(text)))
        writer.write(frame)

    def close(self) -> None:
        self.group.close()


async def _run(socket_path: str) -> None:
    ledger = open_ledger(Settings())
    committer = Committer(ledger, socket_path)
    tune_collector()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    parent = os.getppid()

    async def orphaned() -> None:  # the server that started us is gone: so are we
        while os.getppid() == parent:
            await asyncio.sleep(PARENT_CHECK_SECONDS)
        stop.set()

    watch = asyncio.ensure_future(orphaned())
    try:
        await committer.serve(stop)
    finally:
        watch.cancel()
        committer.close()
        ledger.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(socket_path)


class CommitterProcess:
    """The committer as the server runs it: started before the workers, watched, started again
    when it dies (workers answer 503 meanwhile, then reconnect), and stopped with the server.
    Dying more than RESTARTS_MAX times a minute calls `give_up` (the server then exits)."""

    def __init__(self, env: dict[str, str] | None = None,
                 give_up: Any = None) -> None:
        self.directory = tempfile.mkdtemp(prefix="fundledger-committer-")
        self.socket_path = str(Path(self.directory) / "commits.sock")
        self._env = env
        self._give_up = give_up
        self._stopping = threading.Event()
        self._restarts: deque[float] = deque()
        self.process = self._start()
        self._watch = threading.Thread(target=self._keep_alive, name="committer-watch",
                                       daemon=True)
        self._watch.start()

    def _start(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(  # noqa: S603  (our own interpreter, our own module)
            [sys.executable, "-m", "api.committer", self.socket_path],
            env=child_environment(self._env))
        deadline = time.monotonic() + START_WAIT_SECONDS_MAX
        while time.monotonic() < deadline and process.poll() is None:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                try:
                    probe.connect(self.socket_path)
                except OSError:
                    time.sleep(0.05)
                    continue
                return process
        process.kill()
        msg = f"the committer did not listen on {self.socket_path} within {START_WAIT_SECONDS_MAX} s"
        raise RuntimeError(msg)

    def _keep_alive(self) -> None:
        while exited(self.process, self._stopping):
            now = time.monotonic()
            self._restarts.append(now)
            while self._restarts and self._restarts[0] < now - RESTART_WINDOW_SECONDS:
                self._restarts.popleft()
            if len(self._restarts) > RESTARTS_MAX:
                log.error("the committer died %d times within %d s: stopping the server",
                          len(self._restarts), RESTART_WINDOW_SECONDS)
                if self._give_up is not None:
                    self._give_up()
                return
            log.warning("the committer exited (%s); starting it again", self.process.returncode)
            try:
                self.process = self._start()
            except RuntimeError:
                log.exception("the committer did not start again")

    def stop(self) -> None:
        self._stopping.set()
        self._watch.join(STOP_WAIT_SECONDS_MAX)
        end(self.process)
        with contextlib.suppress(OSError):
            os.unlink(self.socket_path)
        with contextlib.suppress(OSError):
            os.rmdir(self.directory)


def main() -> None:
    """`python -m api.committer SOCKET_PATH`: started by `fundledger serve --workers N`."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     committer: %(message)s")
    end_with_server()
    socket_path = sys.argv[1]
    log.info("committing for the workers on %s (pid %d)", socket_path, os.getpid())
    import uvloop  # noqa: PLC0415  (the server's own loop)

    uvloop.run(_run(socket_path))


if __name__ == "__main__":
    main()
