"""`fundledger periods list|close YYYY-MM`: month-end close (月结) from the command line. A
close is a two-person change: `close` makes it, another approver applies it with
`fundledger changes approve ID`."""

from __future__ import annotations

from contextlib import closing
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.cli.bureaus import BureauOption, books_ledger
from api.cli.changes import Token
from api.cli.errors import cli_command
from api.cli.options import signed_in
from api.cli.terminal import stdout_console

periods = typer.Typer(help="List closed months; ask for a month to be closed.",
                      no_args_is_help=True)
stdout = Console()


@periods.command("list")
@cli_command
def list_periods(bureau: BureauOption = None) -> None:
    """The closed months, oldest first."""
    with closing(books_ledger(bureau)) as ledger:
        closed = ledger.closed_periods()
    table = Table("month", "closed by", "approved by", "closed on", "reason")
    for c in closed:
        table.add_row(c.month, c.closed_by, c.approved_by or "", c.closed_on.isoformat(), c.reason)
    stdout_console().print(table)  # a pipe or a file gets the whole table


@periods.command("close")
@cli_command
def close(month: Annotated[str, typer.Argument(help="The month, YYYY-MM")], token: Token = "",
          reason: Annotated[str, typer.Option()] = "", bureau: BureauOption = None) -> None:
    """Ask for a month to be closed (approver): a pending change another approver applies."""
    with signed_in(token, bureau) as (ledger, actor):
        outcome = ledger.close_period(actor, month, reason=reason)
    stdout.print(f"change {outcome.subject.id} (period_close {month}) is pending; another "
                 f"approver applies it: fundledger changes approve {outcome.subject.id}")


def register(app: typer.Typer) -> None:
    app.add_typer(periods, name="periods")
