"""`fundledger import FILE`: a CSV of allocations or expenditures, all rows or none, with a
progress bar; a refused file prints each bad row with its line and reason."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli.bureaus import BureauOption, books_ledger, books_settings
from api.cli.errors import cli_command
from api.cli.terminal import stdout_console
from domain.book_import import import_csv
from domain.errors import InvalidInput
from domain.import_sheet import IMPORT_BYTES_MAX, ImportKind, template_csv
from projections.database import ViewDatabase
from projections.import_records import ImportRecords

ERRORS_PRINTED_MAX = 50
stdout = stdout_console()


# What a row of each kind is, one and many: "applied 1 expenditure", "applied 2 expenditures".
_ROW_NAMES: dict[ImportKind, tuple[str, str]] = {
    ImportKind.ALLOCATIONS: ("allocation", "allocations"),
    ImportKind.EXPENDITURES: ("expenditure", "expenditures"),
}


@cli_command
def import_file(
    file: Annotated[Path, typer.Argument(help="The CSV to import (or to write, with --template)")],
    token: Annotated[str, typer.Option(envvar="FUNDLEDGER_TOKEN", help="An officer's token",
                                       show_default=False)] = "",
    kind: Annotated[ImportKind | None, typer.Option(help="Default: read from the header")] = None,
    idempotency_key: Annotated[str | None, typer.Option(
        help="Importing the same file again with the same key writes nothing")] = None,
    template: Annotated[ImportKind | None, typer.Option(
        help="Write a template of this kind to FILE instead of importing")] = None,
    lang: Annotated[str, typer.Option(help="Template headers: zh or en")] = "zh",
    bureau: BureauOption = None,
) -> None:
    """Import allocations (as proposals) or expenditures from a CSV: every row or none."""
    if template is not None:
        file.write_text(template_csv(template, lang), encoding="utf-8")
        stdout.print(f"wrote the {_ROW_NAMES[template][1]} template to {file}")
        return
    if not file.is_file():
        msg = f"{file} is not a file"
        raise InvalidInput(msg)
    if file.stat().st_size > IMPORT_BYTES_MAX:
        msg = f"{file} is larger than {IMPORT_BYTES_MAX} bytes; split it"
        raise InvalidInput(msg)
    records = ImportRecords(ViewDatabase.open(books_settings(bureau)))
    ledger = books_ledger(bureau)
    try:
        actor = ledger.authenticate(token.strip()) if token.strip() else None
        if actor is None:
            msg = "give an officer's token with --token or FUNDLEDGER_TOKEN"
            raise InvalidInput(msg)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), transient=True) as bar:
            task = bar.add_task("checking rows", total=None)

            def progress(phase: str, done: int, total: int) -> None:
                label = "checking rows" if phase == "checking" else "saving in one write"
                bar.update(task, description=label, completed=done, total=total)

            result = import_csv(ledger, actor, file.read_bytes(), filename=file.name, kind=kind,
                                idempotency_key=idempotency_key, records=records,
                                progress=progress)
    finally:
        records.close()
        ledger.close()
    if result.status == "applied":
        again = " (a repeat: nothing new written)" if result.replayed else ""
        one, many = _ROW_NAMES[ImportKind(result.kind)]
        stdout.print(f"applied {result.applied} {one if result.applied == 1 else many}{again}; "
                     f"import {result.id}, position {result.position}")
        return
    table = Table("line", "code", "reason", title=f"{result.bad_rows} of {result.rows} rows refused; "
                  "nothing was written")
    # The reasons in the terminal's language (LANG=zh_CN.UTF-8 reads them in Chinese).
    language = "zh" if os.environ.get("LANG", "").lower().startswith("zh") else "en"
    for error in result.errors[:ERRORS_PRINTED_MAX]:
        table.add_row(str(error.line), error.code, error.reason(language))
    stdout.print(table)
    if result.bad_rows > ERRORS_PRINTED_MAX:
        stdout.print(f"… and {result.bad_rows - ERRORS_PRINTED_MAX} more "
                     f"(GET /v1/imports/{result.id})")
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("import")(import_file)
