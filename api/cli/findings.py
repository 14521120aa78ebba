"""`fundledger findings --year Y [--as-of D] [--rule R] [--format table|csv|xlsx] [--out FILE]`:
the auditor's findings for a fiscal year, as of any day."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from api.cli.bureaus import BureauOption, books_settings
from api.cli.errors import cli_command
from api.cli.options import FileLanguage, Out, TableFormat, Year, business_day, file_language
from api.cli.terminal import stdout_console
from api.settings import Settings
from api.store import open_view_runner
from domain.errors import InvalidInput
from projections.findings.registry import UnknownRule, run_findings
from projections.findings.rule import Scope, measure_text

if TYPE_CHECKING:
    from projections.findings.rule import Finding

def _findings_file() -> ModuleType:
    """The findings file's writers live with the API's route; loaded when a verb runs, so that
    `fundledger --help` does not load the web framework."""
    from api.routes import findings as findings_file  # noqa: PLC0415

    return findings_file


def load_findings(
    settings: Settings, fiscal_year: int, as_of: date | None, rule: str | None
) -> list[Finding]:
    """Brings the views (the audit-facts view among them) up to date, then runs the rules."""
    with open_view_runner(settings) as runner:
        runner.run_until_caught_up()
        try:
            day = as_of or _findings_file().default_as_of(fiscal_year)
            return run_findings(runner.db, Scope.year_end(fiscal_year, day), rule)
        except UnknownRule as error:
            raise InvalidInput(str(error)) from None


def write_xlsx(findings: list[Finding], path: Path, language: str = "en") -> None:
    path.write_bytes(_findings_file().xlsx_bytes(findings, language))


def findings(
    year: Year,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Business date YYYY-MM-DD (default: today, or the year end)")
    ] = None,
    rule: Annotated[str | None, typer.Option("--rule", help="One rule, e.g. maker_checker")] = None,
    output_format: TableFormat = "table",
    out: Out = None,
    bureau: BureauOption = None,
    language: FileLanguage = "en",
) -> None:
    """List audit findings for a fiscal year as of a date: each with its rule, measure and evidence."""
    _run(year, as_of, rule, output_format, out, bureau, language)


@cli_command
def _run(year: int, as_of: str | None, rule: str | None, output_format: str, out: Path | None,
         bureau: str | None, language: str = "en") -> None:
    file_language(language)
    if output_format not in ("table", "csv", "xlsx"):
        msg = "--format must be table, csv or xlsx"
        raise InvalidInput(msg)
    if output_format == "xlsx" and out is None:
        msg = "--format xlsx needs --out FILE"
        raise InvalidInput(msg)
    day = business_day(as_of, "--as-of")
    found = load_findings(books_settings(bureau), year, day, rule)
    if output_format == "xlsx":
        assert out is not None
        write_xlsx(found, out, language)
        typer.echo(f"{len(found)} findings written to {out}")
    elif output_format == "csv":
        data = _findings_file().csv_bytes(found, language)
        if out is None:
            typer.echo(data.decode("utf-8-sig"), nl=False)
        else:
            out.write_bytes(data)
            typer.echo(f"{len(found)} findings written to {out}")
    else:
        table = Table(title=f"Findings {year} as of {day or _findings_file().default_as_of(year)}")
        for column in ("rule", "key", "measure", "threshold", "message", "evidence"):
            table.add_column(column)
        for f in found:
            table.add_row(
                f.rule,
                json.dumps(dict(f.key), ensure_ascii=False),
                measure_text(f.measure, f.measure_unit),
                measure_text(f.threshold, f.threshold_unit or f.measure_unit),
                _findings_file().message_in(f, language),
                " ".join(map(str, f.evidence)),
            )
        stdout_console().print(table)
        typer.echo(f"{len(found)} findings")


def register(app: typer.Typer) -> None:
    app.command("findings")(findings)
