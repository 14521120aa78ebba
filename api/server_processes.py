"""The processes a server starts beside its workers end with it: the kernel sends them SIGTERM
if the server dies without stopping them (SIGKILL, a crash), where an orphan would go on
holding its connections (a committer, the views' runner following the log): `end_with_server`.

The views kept by a process of the server's own: `fundledger project`, started with the
server, started again when it dies and stopped with the server.

The writes never wait for it: while it is down the views only lag (`/healthz` shows how far),
and the next one takes up from the views' own position, as after any crash of `project`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping

log = logging.getLogger("fundledger.views")

STOP_WAIT_SECONDS_MAX = 10.0
# After a runner dies, the next start waits this long, doubling up to the maximum while it keeps
# dying: a store that refuses it (down, or its views outdated) is not hammered.
RESTART_WAIT_SECONDS_MIN = 0.5
RESTART_WAIT_SECONDS_MAX = 30.0
# A runner that lived this long was healthy: the next death starts from the shortest wait again.
HEALTHY_SECONDS = 60.0
PR_SET_PDEATHSIG = 1  # linux/prctl.h
# Set by the server for the processes it starts: its own pid.
SERVER_PID_ENV = "FUNDLEDGER_SERVER_PID"


def child_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a process the server starts: `env` (or the server's), the server's
    pid, and the store's tables taken as there: the server created them before starting it
    (`CREATE_TABLE`, the eventsourcing library's setting), and two processes creating them at
    once are refused by PostgreSQL ("tuple concurrently updated"), even when neither would
    change anything."""
    return {**(os.environ if env is None else env), SERVER_PID_ENV: str(os.getpid()),
            "CREATE_TABLE": "no"}


def end_with_server() -> None:
    """Called first by a process the server started: the kernel sends it SIGTERM when the
    server dies (Linux). Asked by the child itself, after exec: a `preexec_fn` would run
    between fork and exec of a threaded server, where a lock another thread held stays held.
    A server already gone by then is seen by the parent's pid: the child exits at once."""
    server = os.environ.get(SERVER_PID_ENV)
    if server is None or not sys.platform.startswith("linux"):
        return
    name = ctypes.util.find_library("c")
    if name is not None:
        ctypes.CDLL(name, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != int(server):
        log.warning("the server (pid %s) that started this process is gone: exiting", server)
        sys.exit(0)


def exited(process: subprocess.Popen[bytes], stopping: threading.Event) -> bool:
    """Waits until `process` exits (True) or `stopping` is set (False): a watcher's beat."""
    while not stopping.is_set():
        if process.poll() is not None:
            return not stopping.is_set()
        stopping.wait(0.2)
    return False


def end(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and SIGKILL if it has not ended within STOP_WAIT_SECONDS_MAX."""
    process.terminate()
    try:
        process.wait(STOP_WAIT_SECONDS_MAX)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_WAIT_SECONDS_MAX)


class ViewsProcess:
    """`fundledger project` beside the server, watched from a daemon thread."""

    def __init__(self) -> None:
        self._stopping = threading.Event()
        self.starts = 0
        self.process = self._start()
        self._watch = threading.Thread(target=self._keep_alive, name="views-watch", daemon=True)
        self._watch.start()

    def _start(self) -> subprocess.Popen[bytes]:
        self.starts += 1
        return subprocess.Popen(  # our interpreter, our verb
            [sys.executable, "-c", "from api.cli import main; main()", "project"],
            env=child_environment())

    def _keep_alive(self) -> None:
        wait = RESTART_WAIT_SECONDS_MIN
        started = time.monotonic()
        while exited(self.process, self._stopping):
            if time.monotonic() - started > HEALTHY_SECONDS:
                wait = RESTART_WAIT_SECONDS_MIN
            log.warning("the views' process exited (%s): starting it again in %.1f s; the views "
                        "lag meanwhile, the writes go on", self.process.returncode, wait)
            if self._stopping.wait(wait):
                return
            wait = min(wait * 2, RESTART_WAIT_SECONDS_MAX)
            started = time.monotonic()
            self.process = self._start()

    def stop(self) -> None:
        self._stopping.set()
        self._watch.join(STOP_WAIT_SECONDS_MAX)
        end(self.process)  # `project` stops at the end of its page
