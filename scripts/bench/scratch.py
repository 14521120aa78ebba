"""Scratch stores the benchmark creates and removes: a PostgreSQL database of its own (never
any other) and a SQLite file in a temporary directory."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from api.settings import Settings

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/fundledger_bench"
# The benchmark drops the database it measured: refuse any name that is not obviously its own.
SCRATCH_PREFIX = "fundledger_bench"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class ScratchRefused(ValueError):
    """The database URL names a database or host the benchmark must not drop or load."""


def scratch_database_name(url: str) -> str:
    parts = urlsplit(url)
    name = parts.path.removeprefix("/")
    if not name.startswith(SCRATCH_PREFIX):
        msg = (f"the benchmark creates and drops its database; its name must start with "
               f"{SCRATCH_PREFIX!r}, not {name!r}")
        raise ScratchRefused(msg)
    if (parts.hostname or "127.0.0.1") not in LOCAL_HOSTS:
        msg = f"the benchmark only loads a local PostgreSQL (127.0.0.1), not {parts.hostname}"
        raise ScratchRefused(msg)
    return name


def conninfo(url: str, database: str | None = None) -> str:
    """A libpq URL for psycopg, optionally for another database on the same server."""
    parts = urlsplit(url)
    scheme = "postgresql"
    path = f"/{database}" if database is not None else parts.path
    return urlunsplit((scheme, parts.netloc, path, "connect_timeout=5", ""))


def admin(url: str, statement: str) -> None:
    import psycopg  # noqa: PLC0415  (only when PostgreSQL is measured)

    with psycopg.connect(conninfo(url, "postgres"), autocommit=True) as connection:
        connection.execute(statement)


def refuse_if_in_use(url: str, name: str) -> None:
    """A scratch database that another process is connected to belongs to a run still going:
    dropping it (`WITH (FORCE)` ends its sessions) would end that run, as it once ended a
    10,000,000-event run 15 minutes in. One left behind by a run that died has no sessions."""
    import psycopg  # noqa: PLC0415  (only when PostgreSQL is measured)

    with psycopg.connect(conninfo(url, "postgres"), autocommit=True) as connection:
        row = connection.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                                 (name,)).fetchone()
    sessions = row[0] if row else 0
    if sessions:
        msg = (f"the scratch database {name!r} has {sessions} open session(s): another benchmark "
               f"is using it. Give this run its own database (--database-url "
               f"postgresql://postgres@127.0.0.1:5432/{SCRATCH_PREFIX}_2), or wait for that run")
        raise ScratchRefused(msg)


@contextmanager
def postgres_store(url: str = DEFAULT_POSTGRES_URL, pool_size: int = 20) -> Iterator[Settings]:
    """A fresh database for the run, dropped afterwards (also when the run fails); each process
    that opens its store keeps `pool_size` connections."""
    name = scratch_database_name(url)
    refuse_if_in_use(url, name)
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    admin(url, drop)
    admin(url, f'CREATE DATABASE "{name}"')
    try:
        yield Settings(database_url=url, postgres_pool_size=pool_size)
    finally:
        admin(url, drop)


@contextmanager
def sqlite_store() -> Iterator[Settings]:
    """A SQLite file in a temporary directory, removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="fundledger-bench-"))
    try:
        yield Settings(database_url=f"sqlite:///{directory / 'bench.db'}")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
