"""`fundledger changes list|approve|reject`: two-person changes from the command line, under
an approver's token (the maker of a change cannot decide on it here either)."""

from __future__ import annotations

import json
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console
from rich.table import Column, Table

from api.cli.bureaus import BureauOption, books_ledger, books_settings
from api.cli.errors import cli_command
from api.cli.options import actor_of, signed_in
from api.cli.terminal import stdout_console
from domain.change import ChangeStatus
from projections.queries import BureauQueries

changes = typer.Typer(help="List, approve and reject two-person changes.", no_args_is_help=True)
stdout = Console()
Token = Annotated[str, typer.Option(envvar="FUNDLEDGER_TOKEN", show_default=False,
                                    help="An approver's token")]


@changes.command("list")
@cli_command
def list_changes(
    token: Token = "",
    status: Annotated[ChangeStatus | None, typer.Option(help="pending|approved|rejected")] = None,
    kind: Annotated[str | None, typer.Option(help="e.g. allocation_transfer")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    bureau: BureauOption = None,
) -> None:
    """Changes in the order they were made (as far as the views have got)."""
    queries = BureauQueries(books_settings(bureau))
    ledger = books_ledger(bureau)
    try:
        actor_of(ledger, token)
        rows, _ = queries.list_changes(status=status and status.value, kind=kind, limit=limit)
    finally:
        queries.close()
        ledger.close()
    # A change's id is what `approve` and `reject` are given: never cut, however narrow.
    table = Table(Column("change", no_wrap=True, min_width=len(str(UUID(int=0)))), "status",
                  "kind", "maker", "subjects", "params", "decided by")
    for row in rows:
        table.add_row(row.change, row.status, row.kind, row.maker, " ".join(row.subjects),
                      json.dumps(row.params, ensure_ascii=False), row.decided_by or "")
    stdout_console().print(table)  # a pipe or a file gets the whole table


@changes.command("approve")
@cli_command
def approve(change: Annotated[UUID, typer.Argument(help="The change's id")],
            token: Token = "", reason: Annotated[str, typer.Option()] = "",
            bureau: BureauOption = None) -> None:
    """Apply a pending change (approver; not its maker)."""
    with signed_in(token, bureau) as (ledger, actor):
        outcome = ledger.approve_change(actor, change, reason=reason)
    stdout.print(f"approved change {change} ({outcome.subject.kind}); position {outcome.position}")


@changes.command("reject")
@cli_command
def reject(change: Annotated[UUID, typer.Argument(help="The change's id")],
           reason: Annotated[str, typer.Option(help="Why (required)")],
           token: Token = "", bureau: BureauOption = None) -> None:
    """Reject a pending change; nothing moves."""
    with signed_in(token, bureau) as (ledger, actor):
        outcome = ledger.reject_change(actor, change, reason=reason)
    stdout.print(f"rejected change {change}; position {outcome.position}")


def register(app: typer.Typer) -> None:
    app.add_typer(changes, name="changes")
