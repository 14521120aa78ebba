"""Backups an auditor can trust: one file holding a consistent copy of the store and a manifest
that says what it holds (last position, the chain's head there, when), with a digest of that
head signed by the bureau's key; and a restore that proves the copy before anyone uses it.

- PostgreSQL: `pg_dump` (custom format) of the store's schema — events, snapshots, views, journal
  — taken in a snapshot exported by a REPEATABLE READ transaction in which the manifest's
  position and head are read too: the manifest describes exactly what was dumped, while writers
  carry on.
- SQLite: the online backup API (`sqlite3.Connection.backup`) copies the file in one step, a
  consistent state while writers carry on; the manifest is read from the copy.

The file is a tar archive: manifest.json, digest.json (verifiable with `fundledger verify
--digest`), signing-key.pub.pem (the public part only; docs/deployment.md says how to keep the
private key) and the data (store.pgdump or store.sqlite).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from api.settings import Settings
from domain.ledger import FundLedger
from projections import digests
from projections.database import postgres_connection
from projections.hash_chain import CHAIN_ALGORITHM, EventTable, Progress, chain_head
from projections.journal import event_table, verify_journal
from projections.reconcile import reconcile
from projections.runner import ViewRunner
from projections.tracking import TRACKING_TABLE

FORMAT = "fundledger-backup-v1"
MANIFEST = "manifest.json"
DIGEST = "digest.json"
PUBLIC_KEY = "signing-key.pub.pem"
PG_DATA = "store.pgdump"
SQLITE_DATA = "store.sqlite"
MANIFEST_BYTES_MAX = 1024 * 1024
PG_TOOL_SECONDS_MAX = 6 * 3600  # a large store's dump or restore; never forever


class BackupRefused(RuntimeError):
    """A backup or restore that cannot be done as asked (wrong store, not empty, bad file)."""


@dataclass(frozen=True)
class Manifest:
    format: str
    created_at: str
    backend: str  # "postgresql" or "sqlite"
    schema: str  # PostgreSQL: the dumped schema
    position: int  # the last event in the backup
    events: int
    head_hash: str  # the chain's link at `position`, recomputed from the events
    chain_algorithm: str
    views_position: int  # how far the views in the backup had got
    data_file: str
    data_sha256: str
    data_bytes: int
    software: dict[str, str]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        try:
            data: Any = json.loads(text)
            manifest = cls(**data)
        except (ValueError, TypeError) as error:
            msg = f"not a fundledger backup manifest: {error}"
            raise BackupRefused(msg) from None
        if manifest.format != FORMAT:
            msg = f"backup format {manifest.format!r}; this release reads {FORMAT}"
            raise BackupRefused(msg)
        return manifest


@dataclass(frozen=True)
class Backup:
    path: Path
    manifest: Manifest
    digest: digests.Digest


@dataclass(frozen=True)
class RestoreCheck:
    """What a restore proved: each line a check, ok or not."""

    position: int
    checks: list[tuple[str, bool]]

    @property
    def ok(self) -> bool:
        return all(ok for _, ok in self.checks)


# -------------------------------------------------------------------------------- backup

def backup(settings: Settings, out: Path, progress: Progress | None = None) -> Backup:
    """Writes one backup file of the configured store to `out`; see the module's docstring."""
    key = digests.signing_key(settings.signing_key_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fundledger-backup-") as scratch:
        if settings.is_postgres:
            data = Path(scratch) / PG_DATA
            facts = _dump_postgres(settings, data, progress)
        else:
            data = Path(scratch) / SQLITE_DATA
            facts = _copy_sqlite(settings, data, progress)
        position, events, head, views_position, software = facts
        signed = digests.sign(key, position, head, events)
        manifest = Manifest(
            format=FORMAT, created_at=datetime.now(UTC).isoformat(),
            backend="postgresql" if settings.is_postgres else "sqlite",
            schema=(settings.postgres_schema or "public") if settings.is_postgres else "",
            position=position, events=events, head_hash=head, chain_algorithm=CHAIN_ALGORITHM,
            views_position=views_position, data_file=data.name, data_sha256=_sha256(data),
            data_bytes=data.stat().st_size, software=software)
        partial = out.with_name(out.name + ".partial")
        # Compressed for SQLite; a custom-format dump is compressed already.
        with tarfile.open(partial, "w:gz" if data.name == SQLITE_DATA else "w") as archive:
            _add_text(archive, MANIFEST, manifest.to_json())
            _add_text(archive, DIGEST, signed.to_json())
            _add_text(archive, PUBLIC_KEY, digests.public_pem(key.public_key()).decode())
            archive.add(data, arcname=data.name)
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        partial.replace(out)  # a crash leaves a .partial, never a short file under the name
    return Backup(out, manifest, signed)


def _dump_postgres(settings: Settings, data: Path,
                   progress: Progress | None) -> tuple[int, int, str, int, dict[str, str]]:
    schema = settings.postgres_schema or "public"
    connection = postgres_connection(settings, "fundledger-backup")
    try:
        with connection.transaction():
            connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            snapshot = connection.execute("SELECT pg_export_snapshot()").fetchone()[0]
            position, events, head, views_position = _store_facts(
                EventTable(connection, f"{FundLedger.name.lower()}_events", is_sqlite=False),
                lambda statement: connection.execute(statement).fetchone(), progress)
            # Inside the transaction: the exported snapshot lives as long as it does.
            _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                  f"--schema={schema}", f"--snapshot={snapshot}", f"--file={data}",
                  _conninfo(settings)], settings)
    finally:
        connection.close()
    tool = _run([_tool("pg_dump"), "--version"], settings).strip()
    return position, events, head, views_position, {"fundledger": version("fundledger"),
                                                    "pg_dump": tool}


def _copy_sqlite(settings: Settings, data: Path,
                 progress: Progress | None) -> tuple[int, int, str, int, dict[str, str]]:
    source_path = settings.eventsourcing_env()["SQLITE_DBNAME"]
    if not Path(source_path).exists():
        msg = f"no store at {source_path}"
        raise BackupRefused(msg)
    source = sqlite3.connect(source_path, timeout=30)
    copy = sqlite3.connect(data)
    try:
        source.backup(copy)  # pages=-1: one step, so one consistent state of the file
    finally:
        source.close()
    try:
        facts = _store_facts(EventTable(copy, "stored_events", is_sqlite=True),
                             lambda statement: copy.execute(statement).fetchone(), progress)
    finally:
        copy.close()
    return (*facts, {"fundledger": version("fundledger"), "sqlite": sqlite3.sqlite_version})


def _store_facts(events: EventTable, one: Any,
                 progress: Progress | None) -> tuple[int, int, str, int]:
    """(last position, events, head link, views' position) as the backup's snapshot sees them."""
    position = events.max_position()
    count, last, head = chain_head(events, position, progress) if position else (0, 0, "")
    assert last == position, (last, position)
    exists = one(f"SELECT name FROM sqlite_master WHERE name = '{TRACKING_TABLE}'" if events.is_sqlite  # noqa: S608
                 else f"SELECT to_regclass('{TRACKING_TABLE}')")
    # A store whose views were never built has no tracking table.
    found = one(f"SELECT MAX(notification_id) FROM {TRACKING_TABLE}") if exists and exists[0] else None  # noqa: S608
    return position, count, head, int((found or [0])[0] or 0)


# ------------------------------------------------------------------------------- restore

def read_backup(path: Path) -> tuple[Manifest, digests.Digest, bytes]:
    """The manifest, digest and public key of a backup file, checked for form."""
    try:
        with tarfile.open(path, "r:*") as archive:
            manifest = Manifest.from_json(_member_text(archive, MANIFEST))
            digest = digests.Digest.from_json(_member_text(archive, DIGEST))
            public_pem = _member_text(archive, PUBLIC_KEY).encode()
    except (OSError, tarfile.TarError, KeyError, digests.DigestInvalid) as error:
        msg = f"{path} is not a readable fundledger backup: {error}"
        raise BackupRefused(msg) from None
    if (digest.position, digest.head_hash) != (manifest.position, manifest.head_hash):
        msg = "the backup's digest and manifest name different heads"
        raise BackupRefused(msg)
    return manifest, digest, public_pem


def restore(settings: Settings, path: Path, trusted: Ed25519PublicKey | None = None,
            progress: Progress | None = None) -> RestoreCheck:
    """Restores a backup into the configured store, which must be empty, then proves it: the
    restored head equals the manifest's, the signed digest holds (checked against `trusted`,
    the bureau's published key, or else the key in the backup), the views rebuild, the
    journal verifies and the views reconcile with a replay."""
    manifest, digest, public_pem = read_backup(path)
    backend = "postgresql" if settings.is_postgres else "sqlite"
    if manifest.backend != backend:
        msg = f"the backup is of a {manifest.backend} store; the configured store is {backend}"
        raise BackupRefused(msg)
    with tempfile.TemporaryDirectory(prefix="fundledger-restore-") as scratch:
        with tarfile.open(path, "r:*") as archive:
            archive.extract(manifest.data_file, scratch, filter="data")
        data = Path(scratch) / manifest.data_file
        if _sha256(data) != manifest.data_sha256:
            msg = "the backup's data does not match its manifest (damaged file)"
            raise BackupRefused(msg)
        if settings.is_postgres:
            _restore_postgres(settings, manifest, data)
        else:
            _restore_sqlite(settings, data)
    key = trusted or digests.public_key_from_pem(public_pem)
    return _prove(settings, manifest, digest, key, progress)


def _restore_sqlite(settings: Settings, data: Path) -> None:
    target = Path(settings.eventsourcing_env()["SQLITE_DBNAME"])
    if target.exists() and target.stat().st_size > 0:
        msg = f"{target} exists: restore into a new, empty store"
        raise BackupRefused(msg)
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(data, partial)
    partial.replace(target)


def _restore_postgres(settings: Settings, manifest: Manifest, data: Path) -> None:
    """pg_restore of the dumped schema's objects (not the schema itself, which may be `public`)
    into an empty schema of the same name, renamed to the configured one if that differs."""
    source, target = manifest.schema, settings.postgres_schema or "public"
    connection = postgres_connection(settings, "fundledger-restore")
    try:
        for schema in {source, target}:
            if _tables_in(connection, schema):
                msg = (f"schema {schema} of the target database holds tables: restore into an "
                       "empty schema (and one without the backup's schema name in use)")
                raise BackupRefused(msg)
        if source != target:
            connection.execute(f'DROP SCHEMA IF EXISTS "{target}"')
        connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{source}"')
        listing = _run([_tool("pg_restore"), "--list", str(data)], settings)
        wanted = "\n".join(line for line in listing.splitlines()
                           if " SCHEMA - " not in line and "COMMENT - SCHEMA " not in line)
        toc = data.with_suffix(".list")
        toc.write_text(wanted + "\n", encoding="utf-8")
        _run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
              "--single-transaction", f"--use-list={toc}", f"--dbname={_conninfo(settings)}",
              str(data)], settings)
        if source != target:
            connection.execute(f'ALTER SCHEMA "{source}" RENAME TO "{target}"')
            if source == "public":
                connection.execute("CREATE SCHEMA public")
        _analyse(connection, target)
    finally:
        connection.close()


def _analyse(connection: Any, schema: str) -> None:
    """pg_restore brings no planner statistics (PostgreSQL's docs: run ANALYZE after a
    restore), and autovacuum may be off: never analysed, a restored log of millions of events
    is read one aggregate at a time by parallel scans (api/event_store.py `refresh_statistics`)."""
    for (table,) in connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)).fetchall():
        connection.execute(f'ANALYZE "{schema}"."{table}"')


def _prove(settings: Settings, manifest: Manifest, digest: digests.Digest,
           key: Ed25519PublicKey, progress: Progress | None) -> RestoreCheck:
    checks: list[tuple[str, bool]] = []
    # Opening the application repairs what names the schema (PostgreSQL's insert function).
    ledger = FundLedger(env=settings.eventsourcing_env())
    try:
        last = ledger.last_position()
        checks.append((f"last position {last} = manifest's {manifest.position}",
                       last == manifest.position))
        with ViewRunner(settings, ledger=ledger, check_schema=False) as runner:
            runner.migrate()
            events = event_table(runner.db)
            _, _, head = chain_head(events, manifest.position, progress)
            checks.append((f"chain head at {manifest.position} = manifest's {manifest.head_hash[:16]}…",
                           head == manifest.head_hash))
            held = digests.check_history(digest, events, key)
            checks.append((f"signed digest: {held.reason}", held.ok))
            rebuilt = runner.rebuild()
            checks.append((f"views rebuilt from {rebuilt:,} events", runner.position() == last))
            verified = verify_journal(runner.db)
            checks.append((f"journal verifies ({verified.checked:,} events)", verified.ok))
            _, lines = reconcile(ledger, runner.db)
            checks.append((f"views reconcile with a replay ({len(lines)} difference(s))", not lines))
    finally:
        ledger.close()
    return RestoreCheck(manifest.position, checks)


# ------------------------------------------------------------------------------- helpers

def _tables_in(connection: Any, schema: str) -> int:
    return int(connection.execute(
        "SELECT COUNT(*) FROM pg_tables WHERE schemaname = %s", (schema,)).fetchone()[0])


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        msg = f"{name} is not on PATH (PostgreSQL's client package has it)"
        raise BackupRefused(msg)
    return found


def _conninfo(settings: Settings) -> str:
    """The database URL without its password (which goes by PGPASSWORD, out of `ps`)."""
    env = settings.eventsourcing_env()
    return (f"host={env['POSTGRES_HOST']} port={env['POSTGRES_PORT']} "
            f"user={env['POSTGRES_USER']} dbname={env['POSTGRES_DBNAME']}")


def _run(command: list[str], settings: Settings) -> str:
    password = unquote(urlsplit(settings.database_url).password or "")
    env = {**os.environ, **({"PGPASSWORD": password} if password else {})}
    done = subprocess.run(command, capture_output=True, text=True, env=env,  # noqa: S603
                          timeout=PG_TOOL_SECONDS_MAX, check=False)
    if done.returncode != 0:
        msg = f"{Path(command[0]).name} failed: {done.stderr.strip()[-2000:]}"
        raise BackupRefused(msg)
    return done.stdout


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _add_text(archive: tarfile.TarFile, name: str, text: str) -> None:
    data = text.encode("utf-8")
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def _member_text(archive: tarfile.TarFile, name: str) -> str:
    member = archive.getmember(name)
    if member.size > MANIFEST_BYTES_MAX:
        msg = f"{name} is larger than it can be"
        raise BackupRefused(msg)
    handle = archive.extractfile(member)
    assert handle is not None
    return handle.read().decode("utf-8")
