"""What every fault scenario needs: a private PostgreSQL schema, `fundledger serve` as a real
process that can be SIGKILLed and started again, a throwaway PostgreSQL cluster, and a small
bureau built over HTTP. Traffic goes to 127.0.0.1 only."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import psycopg
from psycopg import sql

from api.settings import Settings
from api.store import open_ledger
from domain.ledger import FundLedger, bureau_today

ADMIN_DSN = os.environ.get("FUNDLEDGER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
FAULTS_DATABASE = "fundledger_test"
SERVER_START_SECONDS_MAX = 30
SERVER_STOP_SECONDS_MAX = 15
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_START_SECONDS_MAX = 60
ROLES = ("officer", "approver", "auditor", "reader", "admin")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Any, timeout_seconds: float, step_seconds: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step_seconds)
    return bool(condition())


# ------------------------------------------------------------------ stores

def views_caught_up(url: str) -> bool:
    """The served views have applied every event the server's store holds."""
    try:
        health = httpx.get(f"{url}/healthz", timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return False
    return health.get("views_position") == health.get("position")


def database_dsn(admin_dsn: str = ADMIN_DSN, database: str = FAULTS_DATABASE) -> str:
    """The faults' database on the shared cluster, created if missing."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    return admin_dsn.rsplit("/", 1)[0] + "/" + database


@contextlib.contextmanager
def private_schema(dsn: str | None = None, pool_size: int = 10) -> Iterator[Settings]:
    """Settings on a fresh schema of the faults' database, dropped afterwards."""
    dsn = dsn or database_dsn()
    schema = f"f_{uuid4().hex[:16]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield Settings(database_url=dsn, postgres_schema=schema, postgres_pool_size=pool_size)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def add_tokens(settings: Settings, prefix: str = "faults") -> dict[str, str]:
    """A token per role, issued straight into the store (as `fundledger users add` does)."""
    ledger = open_ledger(settings)
    try:
        tokens = {role: ledger.add_user(f"{prefix}.{role}", [role]) for role in ROLES}
        tokens["approver2"] = ledger.add_user(f"{prefix}.approver2", ["approver"])
        return tokens
    finally:
        ledger.close()


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    return {**os.environ, "FUNDLEDGER_DATABASE_URL": settings.database_url,
            "FUNDLEDGER_POSTGRES_SCHEMA": settings.postgres_schema,
            "FUNDLEDGER_POSTGRES_POOL_SIZE": str(settings.postgres_pool_size), **extra}


def cli(settings: Settings, *args: str, timeout_seconds: float = 300) -> subprocess.CompletedProcess[str]:
    """`fundledger ARGS` as its own process on these settings."""
    return subprocess.run(  # noqa: S603  (our interpreter running our own command line)
        [sys.executable, "-c", "from api.cli import main; main()", *args],
        env=settings_env(settings), capture_output=True, text=True, timeout=timeout_seconds,
        check=False)


def cli_process(settings: Settings, *args: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        return subprocess.Popen(  # noqa: S603  (our interpreter running our own command line)
            [sys.executable, "-c", "from api.cli import main; main()", *args],
            env=settings_env(settings), stdout=sink, stderr=subprocess.STDOUT)


# ------------------------------------------------------------------ the server

@dataclass
class Server:
    """`fundledger serve` on a fixed port; `kill()` is SIGKILL, `start()` starts it again."""

    settings: Settings
    workdir: Path
    env_extra: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "server.log"

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None
        self.process = self._spawn()
        self.starts += 1
        if not wait_until(self.healthy, SERVER_START_SECONDS_MAX, 0.1):
            self.kill()
            msg = f"the server did not start:\n{self.log_path.read_text()[-4000:]}"
            raise RuntimeError(msg)

    def _spawn(self) -> subprocess.Popen[bytes]:
        with self.log_path.open("ab") as sink:
            return subprocess.Popen(  # noqa: S603  (our interpreter running our own command line)
                [sys.executable, "-c", "from api.cli import main; main()", "serve", "--port",
                 str(self.port)],
                env=settings_env(self.settings, **self.env_extra), stdout=sink,
                stderr=subprocess.STDOUT)

    def healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            return False
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(SERVER_STOP_SECONDS_MAX)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(SERVER_STOP_SECONDS_MAX)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextlib.contextmanager
def serving(settings: Settings, workdir: Path, **env_extra: str) -> Iterator[Server]:
    server = Server(settings, workdir, dict(env_extra))
    server.start()
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------- a throwaway cluster

@dataclass
class ThrowawayCluster:
    """A PostgreSQL cluster of its own (initdb as the `postgres` user, in a temporary directory,
    on a free port), so that stopping it can never touch the shared cluster on 5432."""

    root: Path
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *args: str, timeout_seconds: float = PG_START_SECONDS_MAX) -> None:
        command = [*self._user_prefix(), *args]
        done = subprocess.run(command, capture_output=True, text=True, check=False,  # noqa: S603
                              timeout=timeout_seconds)
        if done.returncode != 0:
            msg = f"{' '.join(args[:2])} failed: {done.stdout[-2000:]} {done.stderr[-2000:]}"
            raise RuntimeError(msg)

    @staticmethod
    def _user_prefix() -> list[str]:
        # initdb refuses to run as root: as root, run it as the `postgres` user.
        if os.geteuid() == 0:
            return [shutil.which("runuser") or "/sbin/runuser", "-u", "postgres", "--"]
        return []

    def init(self) -> None:
        assert self.port != 5432, "never the shared cluster"
        if os.geteuid() == 0:
            shutil.chown(self.root, user="postgres")
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust",
                          "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c max_connections=100")
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options,
                          "-l", str(self.root / "postgres.log"), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w",
                          "-t", "60", "stop")

    def running(self) -> bool:
        try:
            with psycopg.connect(self.dsn, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
        except psycopg.OperationalError:
            return False
        return True


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[ThrowawayCluster]:
    root = Path(tempfile.mkdtemp(prefix="fundledger-pg-"))
    cluster = ThrowawayCluster(root)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(Exception):
            cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


# ---------------------------------------------------------- a bureau over HTTP

class Client:
    """An HTTP client with a token per role; answers are returned as they come."""

    def __init__(self, url: str, tokens: dict[str, str], timeout_seconds: float = 30) -> None:
        self.http = httpx.Client(base_url=url, timeout=timeout_seconds)
        self.tokens = tokens

    def post(self, role: str, path: str, body: Any, key: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.http.post(path, json=body, headers=headers)

    def get(self, role: str, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params,
                             headers={"Authorization": f"Bearer {self.tokens[role]}"})

    def ok(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code >= 300:
            msg = f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
            raise AssertionError(msg)
        body: dict[str, Any] = response.json()
        return body

    def close(self) -> None:
        self.http.close()


def fiscal_year() -> int:
    return bureau_today().year


def school_body(code: str) -> dict[str, Any]:
    return {"code": code, "name": f"{code}小学", "district": "Pei", "level": "primary",
            "locale": "rural", "poverty_area": False, "students": 300,
            "effective_date": f"{fiscal_year()}-01-01"}


def fund_body(code: str, amount: int) -> dict[str, Any]:
    return {"code": code, "name": "生均公用经费", "fiscal_year": fiscal_year(), "unit": "CNY",
            "amount": amount, "source": "county", "category": "public_operating",
            "earmark": "none", "effective_date": f"{fiscal_year()}-01-02"}


def build_bureau(client: Client, *, schools: int, fund: str, appropriation: int,
                 allocation_amount: int, approved: int, proposed: int = 0) -> dict[str, list[str]]:
    """`schools` schools, a fund, `approved` approved allocations and `proposed` proposed ones
    (round-robin over the schools); returns their ids."""
    for i in range(schools):
        client.ok(client.post("officer", "/v1/schools", school_body(f"{fund}-S{i}")))
    client.ok(client.post("officer", "/v1/funds", fund_body(fund, appropriation)))
    ids: dict[str, list[str]] = {"approved": [], "proposed": []}
    for i in range(approved + proposed):
        body = {"fund": fund, "school": f"{fund}-S{i % schools}", "amount": allocation_amount,
                "purpose": "公用经费", "effective_date": f"{fiscal_year()}-01-02"}
        allocation = client.ok(client.post("officer", "/v1/allocations", body))
        if i < approved:
            client.ok(client.post("approver", f"/v1/allocations/{allocation['id']}/approve",
                                  {"effective_date": f"{fiscal_year()}-01-02"}))
            ids["approved"].append(allocation["id"])
        else:
            ids["proposed"].append(allocation["id"])
    return ids


def expenditure_body(allocation: str, amount: int, voucher: str) -> dict[str, Any]:
    return {"allocation": allocation, "amount": amount, "payee": "徐州供电公司", "voucher": voucher,
            "spent_on": bureau_today().isoformat(), "description": "电费"}


def ledger_for(settings: Settings) -> FundLedger:
    return open_ledger(settings)
