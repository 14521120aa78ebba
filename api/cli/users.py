"""`fundledger users add|revoke|list`: access tokens for the bureau's staff and clients."""

from __future__ import annotations

from contextlib import closing
from typing import Annotated

import typer

from api.cli.bureaus import BureauOption, books_ledger
from api.cli.errors import cli_command

users = typer.Typer(help="Issue and revoke access tokens.", no_args_is_help=True)


@users.command("add")
@cli_command
def add(
    name: Annotated[str, typer.Argument(help="User name, e.g. wang.li")],
    role: Annotated[list[str], typer.Option("--role", help="officer|approver|auditor|reader|admin; repeat")],
    school: Annotated[list[str] | None, typer.Option(
        "--school", help="Limit a reader to this school's data; repeat (default: every school)")] = None,
    bureau: BureauOption = None,
) -> None:
    """Add a user (or give an existing one new roles and school scope) and print a new token
    on the last line."""
    with closing(books_ledger(bureau, role)) as ledger:
        token = ledger.add_user(name, role, school or ())
    scope = f"; schools {', '.join(sorted(set(school)))}" if school else ""
    typer.echo(f"user {name} ({', '.join(sorted(set(role)))}{scope}); the token is shown once:")
    typer.echo(token)


@users.command("revoke")
@cli_command
def revoke(name: Annotated[str, typer.Argument(help="User name")],
           bureau: BureauOption = None) -> None:
    """Revoke every token of a user, effective immediately."""
    with closing(books_ledger(bureau)) as ledger:
        count = ledger.revoke_user(name)
    typer.echo(f"revoked {count} token(s) of {name}")


@users.command("list")
@cli_command
def list_users(bureau: BureauOption = None) -> None:
    """Every user with the roles they hold now and how many tokens are in force."""
    with closing(books_ledger(bureau)) as ledger:
        found = ledger.list_users()
    for user in found:
        schools = ",".join(user.schools) or "all schools"
        typer.echo(f"{user.name}\t{','.join(user.roles) or '-'}\t{len(user.token_ids)} token(s)"
                   f"\t{schools}")


def register(app: typer.Typer) -> None:
    app.add_typer(users, name="users")
