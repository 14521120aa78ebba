"""`fundledger keys rotate|list`: the bureau's digest-signing key on record (issue 14). A
server refuses to start with another key than the one on record (api/signing_guard.py); a
rotation records the change as an event (old and new fingerprints, who, when, why), and
digests signed by the old key still verify under it."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.bureaus import BureauOption, books_ledger, books_settings
from api.cli.errors import cli_command
from api.signing_guard import configured_public_key, key_on_record
from domain.signing_keys import fingerprint, keys_on_record, record_rotation
from projections import digests
from projections.database import ViewDatabase

keys = typer.Typer(help="The bureau's digest-signing key.", no_args_is_help=True)


@keys.command("rotate")
@cli_command
def rotate(
    by: Annotated[str, typer.Option("--by", help="Who rotates the key (recorded)")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded)")],
    generate: Annotated[bool, typer.Option(
        "--generate", help="Make a new key file (the old one is kept beside it, named by its "
                           "fingerprint); without it, adopt the key file configured now")] = False,
    bureau: BureauOption = None,
) -> None:
    """Record that the configured signing key (or a new one, --generate) signs the bureau's
    digests from now on."""
    settings = books_settings(bureau)
    path = settings.signing_key_path
    ledger = books_ledger(bureau)
    db = ViewDatabase.open(settings)
    try:
        old = key_on_record(ledger, db)
        if generate and path.exists():
            kept = configured_public_key(path) or "unknown"
            public = digests.public_key_path(path)
            path.rename(path.with_name(f"{path.stem}.{fingerprint(kept)}.pem"))
            if public.exists():
                public.rename(public.with_name(f"{path.stem}.{fingerprint(kept)}.pub.pem"))
        new = digests.raw_public_hex(digests.signing_key(path).public_key())
        record_rotation(ledger, old, new, by, reason)
        position = ledger.last_position()
    finally:
        db.close()
        ledger.close()
    before = fingerprint(old) if old else "none on record"
    typer.echo(f"signing key rotated at position {position}: {before} -> {fingerprint(new)} "
               f"(by {by}); public key {digests.public_key_path(path)}")


@keys.command("list")
@cli_command
def list_keys(bureau: BureauOption = None) -> None:
    """Every key that has signed the bureau's digests on record, oldest first."""
    settings = books_settings(bureau)
    ledger = books_ledger(bureau)
    db = ViewDatabase.open(settings)
    try:
        on_record = keys_on_record(ledger)
        current = key_on_record(ledger, db)
    finally:
        db.close()
        ledger.close()
    for key in (on_record.public_keys if on_record else [current] if current else []):
        mark = "current" if key == current else "earlier"
        typer.echo(f"{fingerprint(key)}\t{mark}\t{key}")


def register(app: typer.Typer) -> None:
    app.add_typer(keys, name="keys")
