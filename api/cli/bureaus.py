"""`fundledger bureaus add|list`: the bureaus whose books this deployment keeps, and who
supervises whom (issue 15; docs/architecture.md, bureaus)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from typing import Annotated

import typer

from api.cli.errors import cli_command, one_line_errors
from api.settings import Settings
from api.store import bureau_settings, open_bureau_ledger, open_registry
from domain.bureau_registry import BureauInfo, BureauLevel
from domain.errors import BureauNotFound, InvalidInput
from domain.ledger import FundLedger

bureaus = typer.Typer(help="Register bureaus and list them.", no_args_is_help=True)

BureauOption = Annotated[str | None, typer.Option(
    "--bureau", help="The bureau's code (default: the configured FUNDLEDGER_BUREAU)")]
AllBureaus = Annotated[bool, typer.Option(
    "--all-bureaus", help="Every registered bureau in turn, a line each; exit 1 if any fails")]


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
    with closing(open_registry(Settings())) as registry:
        info = registry.add(code, name, level or BureauLevel.COUNTY.value, parent)
    under = f" under {info.parent}" if info.parent else ""
    typer.echo(f"bureau {info.code} ({info.name}), {info.level.value}{under}")


@bureaus.command("list")
@cli_command
def list_bureaus() -> None:
    """Every registered bureau: code, level, parent, name."""
    settings = Settings()
    with closing(open_registry(settings)) as registry:
        found = list(registry.directory())
    for info in found:
        default = " (default)" if info.code == settings.bureau else ""
        typer.echo(f"{info.code}\t{info.level.value}\t{info.parent or '-'}\t{info.name}{default}")


def bureau_info(settings: Settings, code: str) -> BureauInfo:
    """A registered bureau, or the configured default (a county-level bureau until registered)."""
    with closing(open_registry(settings)) as registry:
        directory = registry.directory()
    if code in directory:
        return directory.get(code)
    if code == settings.bureau:
        return BureauInfo(code, code, BureauLevel.COUNTY, None)
    msg = f"bureau {code} not found (fundledger bureaus add)"
    raise BureauNotFound(msg)


def books_ledger(bureau: str | None, roles: list[str] | None = None) -> FundLedger:
    """Bureau `bureau`'s ledger (the default bureau's when None), with its users and their
    tokens; given `roles`, after checking that a supervising bureau's users only read.
    BureauNotFound for an unknown code."""
    settings = Settings()
    code = bureau or settings.bureau
    if roles is not None or code != settings.bureau:
        info = bureau_info(settings, code)
        if roles is not None:
            info.check_user_roles(roles)
    return open_bureau_ledger(settings, code)


def books_settings(bureau: str | None) -> Settings:
    """The settings of bureau `bureau`'s books (the configured default's when None), as the
    server opens them (api/store.py `bureau_settings`); BureauNotFound for an unknown code."""
    settings = Settings()
    code = bureau or settings.bureau
    if code == settings.bureau:
        # The registry is not opened: a store being restored into must stay empty until then.
        return settings
    bureau_info(settings, code)
    return bureau_settings(settings, code)


def each_bureau(bureau: str | None, all_bureaus: bool, work: Callable[[Settings], None]) -> None:
    """`work` on one bureau's books (--bureau, or the default), or on every registered bureau's
    (--all-bureaus; the default first if it is not registered): a line per bureau, each one's
    refusal reported on its own line, and exit 1 once all were tried if any failed."""
    if not all_bureaus:
        work(books_settings(bureau))
        return
    if bureau is not None:
        msg = "give --bureau CODE or --all-bureaus, not both"
        raise InvalidInput(msg)
    settings = Settings()
    with closing(open_registry(settings)) as registry:
        codes = [info.code for info in registry.directory()]
    if settings.bureau not in codes:
        codes.insert(0, settings.bureau)
    failed = []
    for number, code in enumerate(codes, 1):
        typer.echo(f"bureau {code} ({number}/{len(codes)})")
        try:
            with one_line_errors():
                work(bureau_settings(settings, code))
        except typer.Exit as stopped:
            if stopped.exit_code:
                failed.append(code)
    if failed:
        typer.echo(f"{len(failed)} of {len(codes)} bureau(s) failed: {', '.join(failed)}")
        raise typer.Exit(1)
    typer.echo(f"all {len(codes)} bureau(s) done")


def register(app: typer.Typer) -> None:
    app.add_typer(bureaus, name="bureaus")
