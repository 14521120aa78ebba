"""`fundledger demo`: fill an empty store with a generated fiscal year and serve it.

A verb of the `fundledger` console script (scripts/console.py adds it to api/cli's verbs):
it needs the generator and the anomaly injector of scripts/, which api/ never imports.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from api.cli.errors import cli_command
from api.cli.server import Host, Port, Workers, run_server
from api.settings import Settings
from api.store import open_ledger, open_view_runner
from domain.actors import Role
from domain.clock import bureau_today
from domain.ledger import FundLedger
from scripts.anomalies import DEFAULT_RATES, inject
from scripts.generator import generate

DEMO_ANOMALY_RATE_SHARE = 0.1  # of reference/domain.md §(c)'s rates: a bureau with a few lapses


@cli_command
def demo(
    host: Host = "127.0.0.1", port: Port = 8000, workers: Workers = 1,
    preset: Annotated[str, typer.Option(help="xuzhou or laishan")] = "xuzhou",
    seed: Annotated[int, typer.Option(help="Same seed, same data")] = 20250101,
    fiscal_year: Annotated[int | None, typer.Option(help="Default: last year")] = None,
    scale: Annotated[float, typer.Option(min=0.001, max=1.0,
                                         help="Share of the preset's schools")] = 0.1,
    clean: Annotated[bool, typer.Option(
        "--clean", help="No injected audit anomalies: a year the findings page finds clean")] = False,
) -> None:
    """Fill an empty store with a realistic fiscal year (with a few injected audit anomalies
    for the findings page, unless --clean), print a token per role, and serve."""
    settings = Settings()
    ledger = open_ledger(settings)
    try:
        if ledger.last_position() == 0:
            year = fiscal_year or bureau_today().year - 1
            typer.echo(f"generating the {preset} preset's fiscal year {year} (scale {scale}) …")
            with _generation_bar() as (bar, task):
                def progress(done: int, total: int, day: str) -> None:
                    bar.update(task, completed=done, total=total, day=day)

                summary = generate(ledger, preset=preset, seed=seed, fiscal_year=year,
                                   scale=scale, progress=progress)
            for line in summary.lines():
                typer.echo(f"  {line}")
            if not clean:
                inject_demo_anomalies(ledger, year, seed)
            if ledger.today() >= date(year + 1, 1, 2):
                # The finance office closes the past year (结转/结余), as docs/year-end.md says.
                from scripts.generator.year_end import close_generated_year  # noqa: PLC0415

                for line in close_generated_year(ledger, year, summary.fund_codes,
                                                 seed=seed).lines():
                    typer.echo(f"  {line}")
            _catch_up_views(settings)
        else:
            typer.echo(f"the store already holds {ledger.last_position()} events; not generating")
        typer.echo("demo tokens (shown once):")
        for role in Role:
            token = ledger.add_user(f"demo.{role.value}", [role.value])
            typer.echo(f"  {role.value:<9} {token}")
    finally:
        ledger.close()
    typer.echo(f"dashboard: http://{host}:{port}/dashboard  (log in with a token above; the "
               "auditor's sees every page)")
    typer.echo(f"API docs:  http://{host}:{port}/docs")
    run_server(host, port, workers)


def inject_demo_anomalies(ledger: FundLedger, year: int, seed: int) -> list[dict[str, Any]]:
    """A small, true-looking set of the anomalies auditors look for (a tenth of the rates of
    reference/domain.md §(c), at least one of each kind), so the findings page has a story;
    returns their ground truth. The dashboard's browser tests inject through here too."""
    if year >= bureau_today().year:
        typer.echo("  no audit anomalies injected: the year has not ended (its December is "
                   "still to come)")
        return []
    started = time.monotonic()
    with _generation_bar() as (bar, task):
        bar.update(task, day="audit anomalies")
        truth = inject(ledger, year, seed,
                       {kind: rate * DEMO_ANOMALY_RATE_SHARE for kind, rate in DEFAULT_RATES.items()})
    by_rule = Counter(t["rule"] for t in truth)
    typer.echo(f"  with {len(truth)} injected audit anomalies for the findings page "
               f"({time.monotonic() - started:.1f} s; --clean for none): "
               + ", ".join(f"{rule} {n}" for rule, n in sorted(by_rule.items())))
    return truth


def _catch_up_views(settings: Settings) -> None:
    """Builds the views before serving, so the first page opened shows the whole year."""
    started = time.monotonic()
    with _generation_bar() as (bar, task), open_view_runner(settings) as runner:
        bar.update(task, day="views")
        applied = runner.run_until_caught_up(
            lambda done, total: bar.update(task, completed=done, total=total))
    typer.echo(f"  views: {applied} events applied in {time.monotonic() - started:.1f} s")


@contextmanager
def _generation_bar() -> Iterator[tuple[Progress, TaskID]]:
    columns = (TextColumn("  {task.fields[day]}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        yield bar, bar.add_task("generating", total=None, day="")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
