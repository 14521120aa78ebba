"""`fundledger demo`: fill an empty store with a generated fiscal year and serve it.

A verb of the `fundledger` console script (scripts/console.py adds it to api/cli's verbs):
it needs the generator and the anomaly injector of scripts/, which api/ never imports.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, redirect_stdout
from datetime import date
from functools import partial
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from api.cli.errors import cli_command
from api.cli.server import Host, Port, Workers, run_server
from api.settings import DEFAULT_BUREAU, Settings
from api.store import bureau_settings, open_bureau_ledger, open_registry, open_view_runner
from domain.actors import Role
from domain.clock import bureau_today
from domain.ledger import FundLedger
from projections.runner import ViewRunner
from scripts.anomalies import DEFAULT_RATES, ViewsKept, inject
from scripts.generator import generate
from scripts.generator.geography import bureau_plan

DEMO_ANOMALY_RATE_SHARE = 0.1  # of reference/domain.md §(c)'s rates: a bureau with a few lapses
ANOMALY_SCHOOLS_MIN = 3  # an invoice pad shared by three schools needs three
County = tuple[str, str, str]  # code, name, generator preset (geography.bureau_plan)


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
    """Fill empty stores with a realistic fiscal year — the city bureau over its county-level
    bureaus, each keeping its own books (with a few injected audit anomalies for the findings
    page, unless --clean) — print tokens, and serve."""
    plan = bureau_plan(preset)
    settings = _as_default_bureau(plan.city_code)
    registry = open_registry(settings)
    try:
        registry.add(plan.city_code, plan.city_name, plan.parent_level)
        for code, name, _ in plan.counties:
            registry.add(code, name, "county", plan.city_code)
    finally:
        registry.close()
    year = fiscal_year or bureau_today().year - 1
    _fill_counties(plan.counties, partial(_fill_county, settings, year=year, seed=seed, scale=scale,
                                          clean=clean))
    typer.echo(f"demo tokens (shown once); the city bureau {plan.city_code} reads every county "
               "(the dashboard's 教育局 page steps into one):")
    _print_tokens(settings, plan.city_code, ("auditor", "reader"))
    first = plan.counties[0][0]
    typer.echo(f"  … and the county-level bureau {first} (others: fundledger users add NAME "
               f"--role ROLE --bureau {plan.counties[-1][0]}):")
    _print_tokens(settings, first, [role.value for role in Role])
    typer.echo(f"dashboard: http://{host}:{port}/dashboard  (log in with a token above)")
    typer.echo(f"API docs:  http://{host}:{port}/docs  (a county's books: /v1/bureaus/{first}/…)")
    run_server(host, port, workers)


def _fill_counties(counties: Sequence[County], fill: Callable[[County], None],
                   workers: int | None = None) -> None:
    """Each county keeps books of its own, generated from the same seed alone: on a machine
    with more than one core they are filled side by side, one process each (the work is
    Python's, one core a process). Each county's lines are printed together when it is done,
    in the plan's order, and no process shows a progress bar (side by side they would garble)."""
    workers = min(len(counties), workers or os.cpu_count() or 1)
    if workers <= 1:
        for county in counties:
            fill(county)
        return
    typer.echo(f"filling {len(counties)} counties' books, {workers} at a time …")
    context = multiprocessing.get_context("fork")  # the modules loaded already; no pool is open yet
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_hide_bars) as pool:
        for text in pool.map(partial(_captured, fill), counties):
            typer.echo(text, nl=False)


def _captured(fill: Callable[[County], None], county: County) -> str:
    with redirect_stdout(io.StringIO()) as out:
        fill(county)
    return out.getvalue()


def _fill_county(settings: Settings, county: County, *, year: int, seed: int, scale: float,
                 clean: bool) -> None:
    code, name, county_preset = county
    ledger = open_bureau_ledger(settings, code)
    try:
        if ledger.last_position() == 0:
            typer.echo(f"{code} {name}: generating the fiscal year {year} (scale {scale}) …")
            _generate_books(ledger, bureau_settings(settings, code), county_preset, seed, year,
                            scale, clean=clean)
        else:
            typer.echo(f"{code}: the store already holds {ledger.last_position()} events; "
                       "not generating")
    finally:
        ledger.close()
    _catch_up_views(bureau_settings(settings, code))


def _as_default_bureau(code: str) -> Settings:
    """The configured store holds the city bureau's books and the registry: the server this
    demo starts serves it as its default bureau (FUNDLEDGER_BUREAU) unless one is set."""
    if Settings().bureau == DEFAULT_BUREAU:
        os.environ["FUNDLEDGER_BUREAU"] = code
        typer.echo(f"FUNDLEDGER_BUREAU={code} (the city bureau: set it when you serve this store again)")
    return Settings()


def _generate_books(ledger: FundLedger, books: Settings, preset: str, seed: int, year: int,
                    scale: float, *, clean: bool) -> None:
    with _generation_bar() as (bar, task):
        def progress(done: int, total: int, day: str) -> None:
            bar.update(task, completed=done, total=total, day=day)

        summary = generate(ledger, preset=preset, seed=seed, fiscal_year=year, scale=scale,
                           progress=progress)
    for line in summary.lines():
        typer.echo(f"  {line}")
    if not clean and summary.schools >= ANOMALY_SCHOOLS_MIN:
        # The views are built once, here, and the injector reads its targets from them: its
        # own private audit facts would decode the whole log a second time.
        with open_view_runner(books) as runner:
            _run_views(runner)
            inject_demo_anomalies(ledger, year, seed, views=runner)
    if ledger.today() >= date(year + 1, 1, 2):
        # The finance office closes the past year (结转/结余), as docs/year-end.md says.
        from scripts.generator.year_end import close_generated_year  # noqa: PLC0415

        for line in close_generated_year(ledger, year, summary.fund_codes, seed=seed).lines():
            typer.echo(f"  {line}")


def _print_tokens(settings: Settings, bureau: str, roles: Iterable[str]) -> None:
    ledger = open_bureau_ledger(settings, bureau)
    try:
        for role in roles:
            token = ledger.add_user(f"demo.{bureau.lower()}.{role}", [role])
            typer.echo(f"  {bureau:<6} {role:<9} {token}")
    finally:
        ledger.close()


def inject_demo_anomalies(ledger: FundLedger, year: int, seed: int,
                          views: ViewsKept | None = None) -> list[dict[str, Any]]:
    """A small, true-looking set of the anomalies auditors look for (a tenth of the rates of
    reference/domain.md §(c), at least one of each kind), so the findings page has a story;
    returns their ground truth. The dashboard's browser tests inject through here too.
    `views`: the store's view runner, which the injector then reads (scripts.anomalies.inject)."""
    if year >= bureau_today().year:
        typer.echo("  no audit anomalies injected: the year has not ended (its December is "
                   "still to come)")
        return []
    started = time.monotonic()
    with _generation_bar() as (bar, task):
        bar.update(task, day="audit anomalies")
        truth = inject(ledger, year, seed,
                       {kind: rate * DEMO_ANOMALY_RATE_SHARE for kind, rate in DEFAULT_RATES.items()},
                       views=views)
    by_rule = Counter(t["rule"] for t in truth)
    typer.echo(f"  with {len(truth)} injected audit anomalies for the findings page "
               f"({time.monotonic() - started:.1f} s; --clean for none): "
               + ", ".join(f"{rule} {n}" for rule, n in sorted(by_rule.items())))
    return truth


def _catch_up_views(settings: Settings) -> None:
    """Builds the views before serving, so the first page opened shows the whole year."""
    with open_view_runner(settings) as runner:
        _run_views(runner)


def _run_views(runner: ViewRunner) -> None:
    started = time.monotonic()
    with _generation_bar() as (bar, task):
        bar.update(task, day="views")
        applied = runner.run_until_caught_up(
            lambda done, total: bar.update(task, completed=done, total=total))
    typer.echo(f"  views: {applied} events applied in {time.monotonic() - started:.1f} s")


class _Bars:
    shown = True


def _hide_bars() -> None:
    _Bars.shown = False


@contextmanager
def _generation_bar() -> Iterator[tuple[Progress, TaskID]]:
    columns = (TextColumn("  {task.fields[day]}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True,
                  disable=not _Bars.shown) as bar:
        yield bar, bar.add_task("generating", total=None, day="")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
