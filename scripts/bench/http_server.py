"""Serves the API on 127.0.0.1 in a child process and drives it with the load client, another
child process, so that server and client never share an interpreter (or its GIL)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.committer import COMMITTER_SOCKET_ENV, CommitterProcess
from api.settings import Settings
from scripts.bench.asgi import GROUP_COMMIT_ENV, VIEWS_ENV

HOST = "127.0.0.1"
START_WAIT_SECONDS_MAX = 90.0
STOP_WAIT_SECONDS_MAX = 15.0
LOAD_SLACK_SECONDS = 60.0


@dataclass(frozen=True)
class Server:
    port: int
    pid: int
    log: Path
    pids: tuple[int, ...] = ()  # every process of the server: uvicorn, the views, the committer


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def server_command(port: int, workers: int = 1) -> list[str]:
    """uvicorn on uvloop + httptools, one worker, as `fundledger serve` runs it, but without
    the access log (a line per request is the load client's business here, not the server's)."""
    return [sys.executable, "-m", "uvicorn", "--factory", "scripts.bench.asgi:app",
            "--host", HOST, "--port", str(port), "--workers", str(workers), "--loop", "uvloop",
            "--http", "httptools", "--no-access-log", "--log-level", "warning"]


@contextmanager
def served(settings: Settings, *, group_commit: bool, views: bool = True,
           workers: int = 1, views_apart: bool | None = None,
           committer: bool = False) -> Iterator[Server]:
    """The app in uvicorn. The views are kept as `fundledger serve` keeps them: by a process of
    their own (`fundledger project`) on PostgreSQL or with several workers, by a thread of the
    one worker on SQLite; `views_apart` chooses otherwise. With `committer` (any number of
    workers), one committer process decides and saves every worker's commands, as `fundledger
    serve --workers N` does; without it, each worker writes with its own group commit."""
    port = free_port()
    if views_apart is None:
        views_apart = settings.is_postgres
    views_in_server = views and workers == 1 and not views_apart and not committer
    env = {**os.environ, "FUNDLEDGER_DATABASE_URL": settings.database_url,
           "FUNDLEDGER_POSTGRES_POOL_SIZE": str(settings.postgres_pool_size),
           GROUP_COMMIT_ENV: "1" if group_commit else "0",
           VIEWS_ENV: "1" if views_in_server else "0"}
    env.pop(COMMITTER_SOCKET_ENV, None)
    log = Path(tempfile.mkstemp(prefix="fundledger-bench-server-", suffix=".log")[1])
    processes: list[subprocess.Popen[bytes]] = []
    commits = CommitterProcess(env=env) if committer else None
    if commits is not None:
        env[COMMITTER_SOCKET_ENV] = commits.socket_path
    with log.open("wb") as sink:
        processes.append(subprocess.Popen(server_command(port, workers), env=env,  # noqa: S603
                                          stdout=sink, stderr=subprocess.STDOUT))
        if views and not views_in_server:
            processes.append(subprocess.Popen(  # our interpreter, our verb
                [sys.executable, "-c", "from api.cli import main; main()", "project"],
                env=env, stdout=sink, stderr=subprocess.STDOUT))
    try:
        _wait_healthy(port, processes[0], log)
        others = (commits.process.pid,) if commits is not None else ()
        yield Server(port, processes[0].pid, log, (*(p.pid for p in processes), *others))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(STOP_WAIT_SECONDS_MAX)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_WAIT_SECONDS_MAX)
        if commits is not None:
            commits.stop()
        log.unlink(missing_ok=True)


def _wait_healthy(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_WAIT_SECONDS_MAX
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"the server exited: {log.read_text(errors='replace')[-500:]}"
            raise RuntimeError(msg)
        with suppress(OSError), urllib.request.urlopen(
                f"http://{HOST}:{port}/healthz", timeout=2) as answer:
            if answer.status == 200:
                return
        time.sleep(0.2)
    msg = f"the server did not answer /healthz within {START_WAIT_SECONDS_MAX} s"
    raise RuntimeError(msg)


def views_position(port: int) -> int:
    with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=5) as answer:
        return int(json.loads(answer.read()).get("views_position") or 0)


def load(port: int, clients: int, spec: dict[str, Any], *, requests_max: int,
         seconds_max: float, warmup_seconds: float) -> dict[str, Any]:
    """Runs the load client in its own process; its one JSON line of results."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as file:
        json.dump(spec, file)
    try:
        done = subprocess.run(  # noqa: S603  (our interpreter, our module)
            [sys.executable, "-m", "scripts.bench.load_client", "--port", str(port),
             "--clients", str(clients), "--spec", file.name, "--requests-max", str(requests_max),
             "--seconds-max", str(seconds_max), "--warmup-seconds", str(warmup_seconds)],
            capture_output=True, text=True, check=False,
            timeout=warmup_seconds + seconds_max + LOAD_SLACK_SECONDS)
    finally:
        Path(file.name).unlink(missing_ok=True)
    if done.returncode != 0:
        msg = f"the load client failed: {done.stderr.strip()[-300:]}"
        raise RuntimeError(msg)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
