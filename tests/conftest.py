"""Fixtures shared by every test: a fixed bureau calendar and real stores.

PostgreSQL tests use a fresh schema of the `fundledger_test` database per test. When
PostgreSQL cannot be had they skip locally, and fail when CI is set (any non-empty value):
CI must never pass without having run them.

Every test gets one depth marker, decided here once (`pytest_collection_modifyitems`):
`e2e` over HTTP, in a browser or against a running process; `integration` on a real store
(SQLite file or PostgreSQL); `unit` in memory. `pytest -m unit` runs in seconds.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import date
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest
from psycopg import sql

from api.settings import Settings
from domain.actors import Actor, Role
from domain.ledger import FundLedger

POSTGRES_ADMIN_DSN = os.environ.get(
    "FUNDLEDGER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TEST_DATABASE = "fundledger_test"
POSTGRES_START_WAIT_SECONDS_MAX = float(os.environ.get("FUNDLEDGER_TEST_POSTGRES_WAIT_SECONDS", "30"))
TODAY = date(2025, 12, 31)

OFFICER = Actor("olga.officer", frozenset({Role.OFFICER}))
OFFICER_2 = Actor("oscar.officer", frozenset({Role.OFFICER}))
APPROVER = Actor("ada.approver", frozenset({Role.APPROVER}))
CHECKER = Actor("cai.checker", frozenset({Role.APPROVER}))  # approves what APPROVER makes
AUDITOR = Actor("aud.auditor", frozenset({Role.AUDITOR}))


def in_ci() -> bool:
    """CI services set CI to "true", "1" or their name: any non-empty value counts."""
    return bool(os.environ.get("CI"))


# Directories and modules whose tests go over HTTP, through a browser, or start processes of
# their own (a server, pytest itself, pg_dump, lint-imports).
E2E_DIRECTORIES = frozenset({"api", "dashboard", "faults", "bench", "backups", "bureaus"})
E2E_MODULES = frozenset({"test_ci_guard.py", "test_layering.py", "deployment_doc.py"})
# In memory, but whole generated years of the bureau: integration by their size.
WHOLE_YEAR_DIRECTORIES = frozenset({"generator"})
WHOLE_YEAR_MODULES = frozenset({"test_scored_run.py", "test_exports.py"})
# Fixtures that give a test a real store (a SQLite file or a PostgreSQL schema).
STORE_FIXTURES = frozenset({
    "store_settings", "sqlite_settings", "postgres_settings", "postgres_dsn", "fresh_store",
    "old_store",
})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(_depth(item))


def _depth(item: pytest.Item) -> pytest.MarkDecorator:
    path = Path(str(item.fspath))
    if path.parent.name in E2E_DIRECTORIES or path.name in E2E_MODULES:
        return pytest.mark.e2e
    if (STORE_FIXTURES & set(getattr(item, "fixturenames", ()))
            or path.parent.name in WHOLE_YEAR_DIRECTORIES or path.name in WHOLE_YEAR_MODULES):
        return pytest.mark.integration
    return pytest.mark.unit


def _try_connect(dsn: str) -> str | None:
    try:
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as error:
        return str(error)
    return None


def _start_local_cluster() -> None:
    """Starts this machine's own cluster, as the house rules describe, if it is stopped."""
    versions = sorted(Path("/etc/postgresql").glob("*")) if Path("/etc/postgresql").exists() else []
    for version in versions:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version.name, "main", "start"],
            check=False, capture_output=True, timeout=60,
        )


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    error = _try_connect(POSTGRES_ADMIN_DSN)
    if error is not None:
        _start_local_cluster()
        deadline = time.monotonic() + POSTGRES_START_WAIT_SECONDS_MAX
        while error is not None and time.monotonic() < deadline:
            time.sleep(0.5)
            error = _try_connect(POSTGRES_ADMIN_DSN)
    if error is not None:
        message = f"PostgreSQL unreachable at {POSTGRES_ADMIN_DSN}: {error}"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              (TEST_DATABASE,)).fetchone()
        if not exists:
            # Workers of `pytest -n` start together: the second one's CREATE is refused.
            with suppress(psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEST_DATABASE)))
    return POSTGRES_ADMIN_DSN.rsplit("/", 1)[0] + "/" + TEST_DATABASE


@pytest.fixture
def postgres_settings(postgres_dsn: str) -> Iterator[Settings]:
    """Settings pointing at a fresh, private schema, dropped afterwards."""
    schema = f"t_{uuid4().hex[:16]}"
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    yield Settings(database_url=postgres_dsn, postgres_schema=schema, postgres_pool_size=4)
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path}/fundledger.db")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_settings(request: pytest.FixtureRequest) -> Settings:
    """Runs a test once on the embedded default and once on PostgreSQL."""
    if request.param == "postgres":
        return request.getfixturevalue("postgres_settings")
    return request.getfixturevalue("sqlite_settings")


@contextmanager
def fresh_sqlite_store() -> Iterator[Settings]:
    """A new SQLite file, removed afterwards."""
    with tempfile.TemporaryDirectory() as directory:
        yield Settings(database_url=f"sqlite:///{Path(directory) / 'fundledger.db'}")


def fresh_postgres_store(dsn: str) -> Callable[[], AbstractContextManager[Settings]]:
    """A factory of new PostgreSQL schemas, each dropped afterwards."""
    @contextmanager
    def store() -> Iterator[Settings]:
        schema = f"h_{uuid4().hex[:16]}"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            yield Settings(database_url=dsn, postgres_schema=schema, postgres_pool_size=2)
        finally:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))

    return store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_store(request: pytest.FixtureRequest) -> Callable[[], AbstractContextManager[Settings]]:
    """For hypothesis tests: a factory of fresh stores, so that every example starts from an
    empty store of its own and a failure replays exactly (SQLite, then PostgreSQL)."""
    if request.param == "postgres":
        return fresh_postgres_store(request.getfixturevalue("postgres_dsn"))
    return fresh_sqlite_store


@pytest.fixture
def ledger() -> Iterator[FundLedger]:
    """A ledger on the library's in-memory store: the fast kind of test."""
    app = FundLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: TODAY)
    yield app
    app.close()


@pytest.fixture
def stored_ledger(store_settings: Settings) -> Iterator[FundLedger]:
    """A ledger on a real store: SQLite file, then PostgreSQL."""
    app = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    yield app
    app.close()
