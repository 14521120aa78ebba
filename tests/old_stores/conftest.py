"""Stores written by earlier releases (tests/old_stores/<tag>/), opened on SQLite and on
PostgreSQL with the current code. make_fixture.sh wrote them; docs/upgrading.md says when."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from api.settings import Settings

HERE = Path(__file__).parent
DUMPED_SCHEMA = "fundledger_old_store"  # make_fixture.sh's schema, replaced on restore
RELEASES = sorted(p.name for p in HERE.iterdir() if (p / "digest.json").exists())


@dataclass(frozen=True)
class OldStore:
    release: str
    folder: Path
    settings: Settings

    @property
    def facts(self) -> dict[str, Any]:
        return json.loads((self.folder / "facts.json").read_text(encoding="utf-8"))


def restore_sqlite(folder: Path, target: Path) -> None:
    with gzip.open(folder / "store.sqlite.gz") as packed, target.open("wb") as unpacked:
        shutil.copyfileobj(packed, unpacked)


def restore_postgres(folder: Path, dsn: str, schema: str) -> None:
    """Loads the plain-SQL dump into `schema` (the dump's own CREATE SCHEMA made it)."""
    text = gzip.decompress((folder / "store.postgres.sql.gz").read_bytes()).decode("utf-8")
    text = text.replace(DUMPED_SCHEMA, schema)
    psql = shutil.which("psql")
    assert psql, "psql is needed to load a plain pg_dump (PostgreSQL's client package)"
    subprocess.run([psql, "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-d", dsn],
                   input=text.encode(), check=True, capture_output=True, timeout=120,
                   env={**os.environ, "PGOPTIONS": "--client-min-messages=warning"})


def _old_sqlite_store(release: str, tmp_path: Path) -> Iterator[OldStore]:
    target = tmp_path / "old.db"
    restore_sqlite(HERE / release, target)
    yield OldStore(release, HERE / release, Settings(database_url=f"sqlite:///{target}",
                                                     signing_key_path=tmp_path / "key.pem"))


def _old_postgres_store(release: str, dsn: str, tmp_path: Path) -> Iterator[OldStore]:
    schema = f"old_{release.replace('.', '_')}_{os.urandom(6).hex()}"
    restore_postgres(HERE / release, dsn, schema)
    try:
        yield OldStore(release, HERE / release,
                       Settings(database_url=dsn, postgres_schema=schema, postgres_pool_size=2,
                                signing_key_path=tmp_path / "key.pem"))
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(params=[
    *(pytest.param(("sqlite", r), id=f"{r}-sqlite") for r in RELEASES),
    *(pytest.param(("postgres", r), id=f"{r}-postgres", marks=pytest.mark.postgres) for r in RELEASES),
])
def old_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OldStore]:
    """Each release's store, restored afresh for one test: SQLite, then PostgreSQL."""
    kind, release = request.param
    if kind == "sqlite":
        yield from _old_sqlite_store(release, tmp_path)
    else:
        yield from _old_postgres_store(release, request.getfixturevalue("postgres_dsn"), tmp_path)
