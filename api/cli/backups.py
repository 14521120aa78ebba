"""`fundledger backup [--out FILE]` and `fundledger restore FILE`: docs/deployment.md, backups."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from api import backups
from api.cli.bureaus import BureauOption, books_settings
from api.cli.errors import cli_command
from projections import digests

console = Console()
stderr = Console(stderr=True)


def _bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=stderr, transient=True)


@cli_command
def backup(out: Annotated[Path | None, typer.Option(
        "--out", help="The backup file (default: ./fundledger-backup-<UTC time>.tar)")] = None,
           bureau: BureauOption = None) -> None:
    """Write one file: a consistent copy of the store (PostgreSQL: pg_dump; SQLite: the online
    backup API) with a manifest (position, head hash, time) and a signed digest of its head."""
    settings = books_settings(bureau)
    out = out or Path(f"fundledger-backup-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.tar")
    started = time.perf_counter()
    with _bar() as bar:
        task = bar.add_task("hashing the chain", total=None)
        made = backups.backup(settings, out, lambda done: bar.update(task, completed=done))
    m = made.manifest
    console.print(f"backup {out}: {m.events:,} events up to position {m.position}, head "
                  f"{m.head_hash}, views at {m.views_position}; {out.stat().st_size:,} bytes in "
                  f"{time.perf_counter() - started:.1f} s; digest signed by "
                  f"{digests.public_key_path(settings.signing_key_path)}'s key", highlight=False)


@cli_command
def restore(
    backup_file: Annotated[Path, typer.Argument(help="A file written by `fundledger backup`")],
    public_key: Annotated[Path | None, typer.Option(
        "--public-key", help="The bureau's published public key to check the digest with "
                             "(default: the one in the backup)")] = None,
    bureau: BureauOption = None,
) -> None:
    """Restore a backup into the configured store, which must be empty; then verify it (head =
    manifest, digest holds, views rebuild, journal verifies, views reconcile). Exit 1 if not."""
    settings = books_settings(bureau)
    trusted = digests.public_key_from_pem(public_key.read_bytes()) if public_key else None
    with _bar() as bar:
        task = bar.add_task("restoring and verifying", total=None)
        check = backups.restore(settings, backup_file, trusted,
                                lambda done: bar.update(task, completed=done))
    for line, ok in check.checks:
        console.print(f"{'ok  ' if ok else '[red]FAIL[/red]'} {line}", highlight=False)
    if not check.ok:
        console.print("[red]the restored store does not match its backup[/red]")
        raise typer.Exit(1)
    source = f"key {public_key}" if public_key else "the key in the backup (pass --public-key " \
             "with the bureau's published key to prove who signed it)"
    console.print(f"restored and verified up to position {check.position}; digest checked with "
                  f"{source}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
