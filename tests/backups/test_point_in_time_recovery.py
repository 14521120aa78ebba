"""Point-in-time recovery as docs/deployment.md describes it, its blocks run as written on a
throwaway PostgreSQL cluster (initdb on a free port; never the shared one): WAL archiving, a
base backup, writes before and after a moment, recovery to that moment; then the documented
check — `fundledger verify`, the digest signed before the moment holds, reconcile — passes, the
writes after it are gone, and a digest signed after it no longer holds."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from api.cli import app
from api.settings import Settings
from domain.ledger import FundLedger
from projections import digests
from projections.runner import ViewRunner
from scripts.faults.harness import PG_BIN, throwaway_cluster
from tests.audit.conftest import build_small_bureau
from tests.conftest import OFFICER, TODAY
from tests.deployment_doc import run_block

ARCHIVED_WAIT_SECONDS = 60


def _write(settings: Settings, count: int, first: int) -> int:
    ledger = FundLedger(env=settings.eventsourcing_env(), clock=lambda: TODAY)
    try:
        allocation = ledger.get_fund("PO-2025").allocation_ids[0]
        for n in range(first, first + count):
            ledger.record_expenditure(OFFICER, allocation=allocation, amount=n, payee="供应商",
                                      voucher=f"PITR-{n:04d}", spent_on=date(2025, 12, 1))
        with ViewRunner(settings, ledger=ledger) as runner:
            runner.run_until_caught_up()
        return ledger.last_position()
    finally:
        ledger.close()


def _digest(settings: Settings, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in _env(settings).items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(app, ["digest", "--out", str(out)])
    assert result.exit_code == 0, result.output


def _env(settings: Settings) -> dict[str, str]:
    return {"FUNDLEDGER_DATABASE_URL": settings.database_url, "FUNDLEDGER_POSTGRES_POOL_SIZE": "2",
            "FUNDLEDGER_SIGNING_KEY_PATH": str(settings.signing_key_path)}


@pytest.mark.slow
@pytest.mark.postgres
def test_point_in_time_recovery_as_documented(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with throwaway_cluster() as cluster:
        root = cluster.root
        # The cluster's own address in its configuration, so that the restored copy has it too.
        with (cluster.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(f"\nport = {cluster.port}\nunix_socket_directories = '{root}'\n"
                       "listen_addresses = '127.0.0.1'\n")
        postgres_env = {"PGDATA": str(cluster.data), "ARCHIVE": str(root / "archive"),
                        "BASE": str(root / "base"), "PGLOG": str(root / "postgres.log"),
                        "PGHOST": "127.0.0.1",
                        "PGPORT": str(cluster.port), "PGUSER": "postgres"}
        done = run_block("pitr-archive", postgres_env, path=[str(PG_BIN)])
        assert done.returncode == 0, done.stdout + done.stderr
        admin = cluster.dsn
        with psycopg.connect(admin, autocommit=True) as conn:
            assert conn.execute("SHOW archive_mode").fetchone()[0] == "on"
            conn.execute("CREATE DATABASE fundledger")
        settings = Settings(database_url=admin.rsplit("/", 1)[0] + "/fundledger",
                            postgres_pool_size=2, signing_key_path=tmp_path / "keys" / "bureau.pem")

        ledger = FundLedger(env=settings.eventsourcing_env(), clock=lambda: TODAY)
        build_small_bureau(ledger)
        ledger.close()
        done = run_block("pitr-base-backup", postgres_env, path=[str(PG_BIN)])
        assert done.returncode == 0, done.stdout + done.stderr

        kept = _write(settings, 10, 1)  # after the base backup, before the moment
        _digest(settings, tmp_path / "before.json", monkeypatch)
        with psycopg.connect(admin, autocommit=True) as conn:
            moment = conn.execute("SELECT clock_timestamp()").fetchone()[0]
        time.sleep(1.2)
        lost = _write(settings, 10, 11)  # the "mistake", to be undone
        assert lost > kept
        _digest(settings, tmp_path / "after.json", monkeypatch)
        with psycopg.connect(admin, autocommit=True) as conn:
            segment = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()[0]
            deadline = time.monotonic() + ARCHIVED_WAIT_SECONDS
            while (root / "archive" / segment).exists() is False:
                assert time.monotonic() < deadline, f"{segment} was not archived"
                time.sleep(0.2)

        done = run_block("pitr-restore", {**postgres_env, "TARGET_TIME": moment.isoformat()},
                         path=[str(PG_BIN)])
        assert done.returncode == 0, done.stdout + done.stderr

        public_key = digests.public_key_path(settings.signing_key_path)
        done = run_block("pitr-check", {**_env(settings), "DIGEST": str(tmp_path / "before.json"),
                                        "PUBLIC_KEY": str(public_key)})
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"verified up to position {kept}" in done.stdout
        assert f"history up to position {kept} is unchanged" in done.stdout
        recovered = FundLedger(env=settings.eventsourcing_env(), clock=lambda: TODAY)
        try:
            assert recovered.last_position() == kept
        finally:
            recovered.close()
        for key, value in _env(settings).items():
            monkeypatch.setenv(key, value)
        result = CliRunner().invoke(app, ["verify", "--digest", str(tmp_path / "after.json"),
                                          "--public-key", str(public_key)])
        assert result.exit_code == 1, result.output
        assert "DIGEST DOES NOT HOLD" in result.output
