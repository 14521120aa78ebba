"""The `fundledger` command line. Each verb group lives in its own module and registers here.
The installed `fundledger` script (scripts/console.py) adds `demo` and `bench`."""

from __future__ import annotations

import typer

from api.cli import (
    audit,
    backups,
    books,
    bureaus,
    changes,
    findings,
    imports,
    keys,
    periods,
    server,
    tranches,
    users,
    views,
)

app = typer.Typer(
    name="fundledger",
    help="An event-sourced ledger of an education bureau's funds and resources.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
users.register(app)
keys.register(app)
findings.register(app)
views.register(app)
audit.register(app)
server.register(app)
imports.register(app)
backups.register(app)
tranches.register(app)
books.register(app)
changes.register(app)
periods.register(app)
bureaus.register(app)


def main() -> None:
    app()
