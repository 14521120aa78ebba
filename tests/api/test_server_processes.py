"""The processes a server starts beside its workers (api/server_processes.py): the views'
runner is started again when it dies, stopped with the server, and ended by the kernel when
the server dies without stopping it; `fundledger serve` on PostgreSQL keeps its views so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import server_processes
from api.app import create_app
from api.cli.server import _create_tables
from api.server_processes import SERVER_PID_ENV, ViewsProcess
from api.settings import Settings
from api.store import open_view_runner
from tests.api.test_end_to_end import _serve

WAIT_SECONDS_MAX = 20.0
OPENERS = 8
# A process that asks to end with its server, then would sleep for a minute.
CHILD = ("import time; from api.server_processes import end_with_server; end_with_server(); "
         "print('ready', flush=True); time.sleep(60)")


def _until(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + WAIT_SECONDS_MAX
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead: its parent (here init, or the test) has not reaped it yet.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_a_child_of_a_killed_server_ends_with_it() -> None:
    # The "server" starts the child as ViewsProcess starts `project`, prints its pid, waits.
    server = subprocess.Popen(
        [sys.executable, "-c",
         "import subprocess, sys, time; from api.server_processes import child_environment; "
         f"c = subprocess.Popen([sys.executable, '-c', {CHILD!r}], env=child_environment(), "
         "stdout=subprocess.PIPE); c.stdout.readline(); print(c.pid, flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE)
    assert server.stdout is not None
    child = int(server.stdout.readline())
    assert _alive(child)
    server.kill()  # SIGKILL: the server stops nothing
    server.wait()
    assert _until(lambda: not _alive(child)), "the child outlived its server"


def test_a_child_whose_server_is_already_gone_exits_at_once() -> None:
    env = {**os.environ, SERVER_PID_ENV: "1"}  # pid 1 is not this child's parent
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                          timeout=WAIT_SECONDS_MAX, check=False)
    assert done.returncode == 0
    assert b"ready" not in done.stdout


def test_a_child_not_started_by_a_server_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SERVER_PID_ENV, raising=False)
    server_processes.end_with_server()  # the test process goes on


def test_the_views_process_is_started_again_when_it_dies_and_stopped_with_the_server(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDLEDGER_DATABASE_URL", f"sqlite:///{tmp_path / 'ledger.db'}")
    monkeypatch.setattr(server_processes, "RESTART_WAIT_SECONDS_MIN", 0.1)
    open_view_runner(Settings()).close()  # the server creates the tables before starting it
    views = ViewsProcess()
    try:
        first = views.process.pid
        os.kill(first, signal.SIGKILL)
        assert _until(lambda: views.process.pid != first and views.process.poll() is None)
        assert views.starts == 2
    finally:
        views.stop()
    assert views.process.poll() is not None


def _projects_of(parent: int) -> list[int]:
    """The `fundledger project` processes whose parent is `parent`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(fields[1]) == parent and b"project" in command:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.postgres
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_serve_on_postgres_keeps_the_views_in_a_process_that_ends_with_it(
        postgres_settings: Settings, tmp_path: Path) -> None:
    served = _serve(postgres_settings, tmp_path, workers=1, keep_process=True)
    url, _, process = next(served)
    try:
        assert url
        assert _until(lambda: len(_projects_of(process.pid)) == 1), \
            (tmp_path / "server.log").read_text()
        (runner,) = _projects_of(process.pid)
        process.kill()  # SIGKILL: the server stops nothing
        process.wait()
        assert _until(lambda: not _alive(runner)), "the views' process outlived the server"
    finally:
        served.close()


@pytest.mark.postgres
def test_a_worker_starts_on_the_tables_the_server_created_and_creates_none(
        postgres_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Several workers starting at once on a new schema each created the tables they lacked;
    PostgreSQL refused the second (a duplicate type), and the worker's failed start-up made
    uvicorn stop the whole server, resetting the first requests. The server now creates every
    table a worker opens before it starts them, so a worker that may create none starts."""
    _create_tables(postgres_settings)
    monkeypatch.setenv("CREATE_TABLE", "no")
    with TestClient(create_app(postgres_settings, run_views=False)) as client:
        assert client.get("/healthz").status_code == 200


@pytest.mark.postgres
def test_many_processes_creating_the_tables_at_once_all_start(postgres_settings: Settings) -> None:
    """What each process of a server does as it starts, eight at once on a new schema: every
    one opens the ledger, the bureau registry and the views, and none is refused."""
    start = threading.Barrier(OPENERS)

    def opens() -> None:
        start.wait()
        _create_tables(postgres_settings)

    with ThreadPoolExecutor(OPENERS) as pool:
        for opened in [pool.submit(opens) for _ in range(OPENERS)]:
            opened.result()
