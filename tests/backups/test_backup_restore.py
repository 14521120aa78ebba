"""`fundledger backup` and `fundledger restore`, on SQLite and PostgreSQL: a backup restores into
another, empty store and proves itself (head = manifest, digest holds, views rebuild, journal
verifies, views reconcile); taken while an officer keeps writing, it holds every write
acknowledged before its position, as acknowledged, and none after; a restore refuses a store
that is not empty, a damaged file, and a digest the bureau's key did not sign."""

from __future__ import annotations

import io
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg import sql
from typer.testing import CliRunner

from api import backups
from api.cli import app
from api.settings import Settings
from domain.ledger import FundLedger
from projections import digests
from projections.runner import ViewRunner
from tests.audit.conftest import build_small_bureau
from tests.conftest import OFFICER, TODAY, fresh_sqlite_store

WRITES_DURING_BACKUP_MIN = 20


def _other_postgres_database(dsn: str) -> Callable[[], AbstractContextManager[Settings]]:
    """Elsewhere: a new database, restored into a schema of another name than the source's."""

    @contextmanager
    def store() -> Iterator[Settings]:
        name = f"restore_{uuid4().hex[:12]}"
        admin = dsn.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield Settings(database_url=dsn.rsplit("/", 1)[0] + "/" + name,
                           postgres_schema="restored", postgres_pool_size=2)
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))

    return store


@pytest.fixture
def elsewhere(store_settings: Settings, request: pytest.FixtureRequest
              ) -> Callable[[], AbstractContextManager[Settings]]:
    if store_settings.is_postgres:
        return _other_postgres_database(request.getfixturevalue("postgres_dsn"))
    return fresh_sqlite_store


@pytest.fixture
def books(store_settings: Settings, tmp_path: Path) -> Iterator[tuple[FundLedger, Settings]]:
    settings = store_settings.model_copy(update={"signing_key_path": tmp_path / "keys" / "bureau.pem"})
    ledger = FundLedger(env=settings.eventsourcing_env(), clock=lambda: TODAY)
    build_small_bureau(ledger)
    with ViewRunner(settings, ledger=ledger) as runner:
        runner.run_until_caught_up()
    yield ledger, settings
    ledger.close()


def _cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("FUNDLEDGER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FUNDLEDGER_POSTGRES_SCHEMA", settings.postgres_schema)
    monkeypatch.setenv("FUNDLEDGER_POSTGRES_POOL_SIZE", "2")
    monkeypatch.setenv("FUNDLEDGER_SIGNING_KEY_PATH", str(settings.signing_key_path))
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_a_backup_restores_elsewhere_and_proves_itself(
        books: tuple[FundLedger, Settings], elsewhere: Callable[[], AbstractContextManager[Settings]],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger, settings = books
    file = tmp_path / "bureau.tar"
    code, output = _cli(settings, monkeypatch, "backup", "--out", str(file))
    assert code == 0, output
    assert f"up to position {ledger.last_position()}" in output
    manifest, digest, _ = backups.read_backup(file)
    assert manifest.position == digest.position == ledger.last_position()
    assert manifest.views_position == ledger.last_position()
    with tarfile.open(file) as archive:
        assert sorted(archive.getnames()) == sorted(
            ["manifest.json", "digest.json", "signing-key.pub.pem", manifest.data_file])
        assert not any("PRIVATE" in (archive.extractfile(m).read().decode("latin-1"))  # type: ignore[union-attr]
                       for m in archive.getmembers() if m.name.endswith((".pem", ".json")))

    published = digests.public_key_path(settings.signing_key_path)
    with elsewhere() as target:
        code, output = _cli(target.model_copy(update={"signing_key_path": tmp_path / "other.pem"}),
                            monkeypatch, "restore", str(file), "--public-key", str(published))
        assert code == 0, output
        assert "FAIL" not in output
        assert f"restored and verified up to position {manifest.position}" in output
        assert "signed digest: history up to position" in output
        if target.is_postgres:  # restored with its planner statistics, not without any
            assert _never_analysed_tables(target) == []
        # The backup's digest file is the auditor's too: `verify --digest` holds on the copy.
        with tarfile.open(file) as archive:
            archive.extract("digest.json", tmp_path, filter="data")
        code, output = _cli(target, monkeypatch, "verify", "--digest", str(tmp_path / "digest.json"),
                            "--public-key", str(published))
        assert code == 0 and "is unchanged" in output, output
        # ... and the restored store takes new writes on the same chain.
        restored = FundLedger(env=target.eventsourcing_env(), clock=lambda: TODAY)
        try:
            restored.add_user("after.restore", ["reader"])
            assert restored.last_position() > manifest.position
        finally:
            restored.close()
        code, output = _cli(target, monkeypatch, "verify")
        assert code == 0, output


def _never_analysed_tables(settings: Settings) -> list[str]:
    """The event table, if the planner has no column statistics of it (pg_stats is filled by
    ANALYZE only; an index build sets the row estimate but not these)."""
    import psycopg  # noqa: PLC0415

    with psycopg.connect(settings.database_url) as conn:
        row = conn.execute("SELECT COUNT(*) FROM pg_stats WHERE schemaname = %s "
                           "AND tablename = 'fundledger_events'",
                           (settings.postgres_schema,)).fetchone()
    return [] if row and row[0] else ["fundledger_events"]


@dataclass(frozen=True)
class Acknowledged:
    expenditure: UUID
    amount: int
    position: int
    before_backup_began: bool


def test_a_backup_under_write_load_holds_every_acknowledged_write_up_to_its_position(
        books: tuple[FundLedger, Settings], elsewhere: Callable[[], AbstractContextManager[Settings]],
        tmp_path: Path) -> None:
    ledger, settings = books
    allocation = ledger.get_fund("PO-2025").allocation_ids[0]
    acknowledged: list[Acknowledged] = []
    began = threading.Event()
    stop = threading.Event()
    failures: list[BaseException] = []

    def officer() -> None:
        writer = FundLedger(env=settings.eventsourcing_env(), clock=lambda: TODAY)
        try:
            n = 0
            while not stop.is_set():
                n += 1
                outcome = writer.record_expenditure(
                    OFFICER, allocation=allocation, amount=n, payee="负载供应商",
                    voucher=f"LOAD-{n:06d}", spent_on=date(2025, 12, 1))
                # Acknowledged: the command returned; before the backup began if it had not yet.
                acknowledged.append(Acknowledged(outcome.subject.id, n, outcome.position,
                                                 not began.is_set()))
        except BaseException as error:  # reported by the test below
            failures.append(error)
        finally:
            writer.close()

    thread = threading.Thread(target=officer)
    thread.start()
    try:
        _wait_for(lambda: len(acknowledged) >= WRITES_DURING_BACKUP_MIN)
        began.set()
        first_after = len(acknowledged)
        made = backups.backup(settings, tmp_path / "under-load.tar")
        _wait_for(lambda: len(acknowledged) >= first_after + WRITES_DURING_BACKUP_MIN)
    finally:
        stop.set()
        thread.join(60)
    assert not failures, failures
    position = made.manifest.position
    assert any(a.position > position for a in acknowledged), "no write went on after the backup"

    with elsewhere() as target:
        check = backups.restore(target, tmp_path / "under-load.tar")
        assert check.ok, check.checks
        restored = FundLedger(env=target.eventsourcing_env(), clock=lambda: TODAY)
        try:
            assert restored.last_position() == position
            for write in acknowledged:
                if write.before_backup_began:
                    assert write.position <= position, write
                found = _find(restored, write.expenditure)
                if write.position <= position:
                    assert found is not None and found.amount == write.amount, write
                    assert found.status == "recorded"
                else:
                    assert found is None, write
        finally:
            restored.close()


def test_a_restore_refuses_a_store_that_is_not_empty(
        books: tuple[FundLedger, Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger, settings = books
    backups.backup(settings, tmp_path / "b.tar")
    before = ledger.last_position()
    code, output = _cli(settings, monkeypatch, "restore", str(tmp_path / "b.tar"))
    assert code == 2, output
    assert "empty" in output
    assert ledger.last_position() == before


def test_a_restore_refuses_a_damaged_file_and_writes_nothing(
        books: tuple[FundLedger, Settings], elsewhere: Callable[[], AbstractContextManager[Settings]],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, settings = books
    made = backups.backup(settings, tmp_path / "b.tar")
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(made.path) as source, tarfile.open(damaged, "w") as copy:
        for member in source.getmembers():
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == made.manifest.data_file:
                middle = len(data) // 2
                data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]
            copy.addfile(member, io.BytesIO(data))
    with elsewhere() as target:
        code, output = _cli(target, monkeypatch, "restore", str(damaged))
        assert code == 2, output
        assert "damaged" in output
        code, output = _cli(target, monkeypatch, "restore", str(tmp_path / "nonsense.tar"))
        assert code == 2, output


def test_a_restore_with_another_bureaus_key_fails_its_digest_check(
        books: tuple[FundLedger, Settings], elsewhere: Callable[[], AbstractContextManager[Settings]],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, settings = books
    made = backups.backup(settings, tmp_path / "b.tar")
    digests.signing_key(tmp_path / "stranger.pem")
    with elsewhere() as target:
        code, output = _cli(target, monkeypatch, "restore", str(made.path), "--public-key",
                            str(tmp_path / "stranger.pub.pem"))
        assert code == 1, output
        assert "FAIL signed digest: digest was signed by another key" in output


def _find(ledger: FundLedger, expenditure: UUID) -> object | None:
    try:
        return ledger.get_expenditure(expenditure)
    except Exception:  # not found, in whatever way the ledger says it
        return None


def _wait_for(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
