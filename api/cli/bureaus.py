"""`fundledger bureaus add|list`: the bureaus whose books this deployment keeps, and who
supervises whom (issue 15; docs/architecture.md, bureaus)."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.errors import cli_command
from api.settings import Settings
from api.store import open_bureau_ledger, open_registry
from domain.bureau_registry import BureauInfo, BureauLevel
from domain.errors import BureauNotFound
from domain.ledger import FundLedger

bureaus = typer.Typer(help="Register bureaus and list them.", no_args_is_help=True)

BureauOption = Annotated[str | None, typer.Option(
    "--bureau", help="The bureau's code (default: the configured FUNDLEDGER_BUREAU)")]


@bureaus.command("add")
@cli_command
def add(
    code: Annotated[str, typer.Argument(help="The bureau's code, e.g. XZ-TS")],
    name: Annotated[str, typer.Option("--name", help="e.g. 铜山区教育局")],
    parent: Annotated[str | None, typer.Option("--parent", help="The supervising bureau")] = None,
    level: Annotated[str | None, typer.Option(
        "--level", help="county (keeps books; the default), city or province (supervise)")] = None,
) -> None:
    """Register a bureau (a county-level bureau keeps books; a city or province supervises)."""
    registry = open_registry(Settings())
    try:
        info = registry.add(code, name, level or BureauLevel.COUNTY.value, parent)
    finally:
        registry.close()
    under = f" under {info.parent}" if info.parent else ""
    typer.echo(f"bureau {info.code} ({info.name}), {info.level.value}{under}")


@bureaus.command("list")
@cli_command
def list_bureaus() -> None:
    """Every registered bureau: code, level, parent, name."""
    settings = Settings()
    registry = open_registry(settings)
    try:
        found = list(registry.directory())
    finally:
        registry.close()
    for info in found:
        default = " (default)" if info.code == settings.bureau else ""
        typer.echo(f"{info.code}\t{info.level.value}\t{info.parent or '-'}\t{info.name}{default}")


def bureau_info(settings: Settings, code: str) -> BureauInfo:
    """A registered bureau, or the configured default (a county-level bureau until registered)."""
    registry = open_registry(settings)
    try:
        directory = registry.directory()
    finally:
        registry.close()
    if code in directory:
        return directory.get(code)
    if code == settings.bureau:
        return BureauInfo(code, code, BureauLevel.COUNTY, None)
    msg = f"bureau {code} not found (fundledger bureaus add)"
    raise BureauNotFound(msg)


def users_ledger(bureau: str | None, roles: list[str] | None = None) -> FundLedger:
    """The ledger holding bureau `bureau`'s users (the default bureau's when None), after
    checking that a supervising bureau's users only read."""
    settings = Settings()
    code = bureau or settings.bureau
    info = bureau_info(settings, code)
    if roles is not None:
        info.check_user_roles(roles)
    return open_bureau_ledger(settings, code)


def register(app: typer.Typer) -> None:
    app.add_typer(bureaus, name="bureaus")
