"""docs/deployment.md's upgrade block, run as written on a store written by each earlier
release (SQLite and PostgreSQL): backup, migrate, verify, reconcile all succeed."""

from __future__ import annotations

from pathlib import Path

from api import backups
from tests.deployment_doc import run_block
from tests.old_stores.conftest import OldStore


def test_the_documented_upgrade_runs_on_an_old_store(old_store: OldStore, tmp_path: Path) -> None:
    settings = old_store.settings
    done = run_block("upgrade-store", {
        "BACKUP_DIR": str(tmp_path),
        "FUNDLEDGER_DATABASE_URL": settings.database_url,
        "FUNDLEDGER_POSTGRES_SCHEMA": settings.postgres_schema,
        "FUNDLEDGER_POSTGRES_POOL_SIZE": "2",
        "FUNDLEDGER_SIGNING_KEY_PATH": str(tmp_path / "keys" / "bureau.pem"),
    })
    assert done.returncode == 0, done.stdout + done.stderr
    position = old_store.facts["position"]
    assert f"{position:,} events verified up to position {position}" in done.stdout
    assert f"views reconcile with the replay up to position {position}" in done.stdout
    manifest, _, _ = backups.read_backup(tmp_path / "before-upgrade.tar")
    assert manifest.position == position
