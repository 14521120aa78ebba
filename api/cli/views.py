"""`fundledger rebuild | reconcile | project`: keeping and checking the views."""

from __future__ import annotations

import signal
import threading
import time
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from api.cli.bureaus import AllBureaus, BureauOption, books_settings, each_bureau
from api.cli.errors import cli_command
from api.cli.terminal import stdout_console
from api.settings import Settings
from api.store import open_view_runner
from projections.garbage_collection import fewer_collections
from projections.reconcile import reconcile as reconcile_views
from projections.runner import PAGE_SIZE

console = stdout_console()

PageSize = Annotated[int, typer.Option("--page-size", min=1, max=10_000,
                                       help="Events per transaction")]


def _progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=console)


Parts = Annotated[int | None, typer.Option(
    "--parts", min=1, max=16, show_default=False,
    help="Processes building the views at once, each some of them (PostgreSQL; default: 2 "
         "where there are two cores; SQLite: 1)")]


@cli_command
def rebuild(page_size: PageSize = PAGE_SIZE, bureau: BureauOption = None, parts: Parts = None) -> None:
    """Drop every view and build it again from the event store."""
    with open_view_runner(books_settings(bureau), page_size=page_size) as runner, _progress_bar() as bar:
        total = runner.log_position()
        task = bar.add_task("rebuilding views", total=total or 1, rate="")
        started = time.perf_counter()

        def advance(done: int, end: int) -> None:
            elapsed = time.perf_counter() - started
            bar.update(task, completed=done, total=max(end, 1),
                       rate=f"{done / elapsed:,.0f} events/s" if elapsed else "")

        with fewer_collections():
            applied = runner.rebuild(advance, parts=parts)
        elapsed = time.perf_counter() - started
    rate = applied / elapsed if elapsed > 0 else 0.0
    console.print(f"rebuilt views from {applied:,} events in {elapsed:.1f} s "
                  f"({rate:,.0f} events/s)")


@cli_command
def reconcile(bureau: BureauOption = None) -> None:
    """Compare the views, row for row, with an independent in-memory replay."""
    with open_view_runner(books_settings(bureau)) as runner, _progress_bar() as bar:
        task = bar.add_task("replaying", total=max(runner.position(), 1), rate="")
        position, lines = reconcile_views(runner.ledger, runner.db,
                                          progress=lambda done: bar.update(task, completed=done))
    for line in lines:
        console.print(f"[red]difference[/red] {line}", highlight=False)
    if lines:
        console.print(f"{len(lines)} difference(s) between the views and the replay "
                      f"up to position {position}")
        raise typer.Exit(1)
    console.print(f"views reconcile with the replay up to position {position}")


@cli_command
def migrate(page_size: PageSize = PAGE_SIZE, bureau: BureauOption = None,
            all_bureaus: AllBureaus = False) -> None:
    """Upgrade the views' tables of an existing store to this release's layout, in place
    (rebuilding derived views from the event log where their tables changed). Idempotent."""
    each_bureau(bureau, all_bureaus, lambda settings: _migrate(settings, page_size))


def _migrate(settings: Settings, page_size: int) -> None:
    with open_view_runner(settings, page_size=page_size, check_schema=False) as runner:
        planned = runner.schema_plan()
        if planned.current:
            console.print(f"views are up to date at position {runner.position()}: nothing to do")
            return
        for line in planned.lines():
            console.print(f"migrate: {line}")
        if not planned.rebuild:
            _, applied = runner.migrate()
        else:
            with _progress_bar() as bar:
                task = bar.add_task("rebuilding views", total=max(runner.log_position(), 1), rate="")
                started = time.perf_counter()

                def advance(done: int, end: int) -> None:
                    elapsed = time.perf_counter() - started
                    bar.update(task, completed=done, total=max(end, 1),
                               rate=f"{done / elapsed:,.0f} events/s" if elapsed else "")

                _, applied = runner.migrate(advance)
        console.print(f"views migrated: {applied:,} events applied; at position {runner.position()}")


@cli_command
def project(page_size: PageSize = PAGE_SIZE, bureau: BureauOption = None) -> None:
    """Keep the views up to date until interrupted (Ctrl-C)."""
    from api.server_processes import end_with_server  # noqa: PLC0415

    end_with_server()  # started by `fundledger serve`: ended with it
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with open_view_runner(books_settings(bureau), page_size=page_size) as runner:
        console.print(f"views at position {runner.position()}; following the ledger")
        try:
            with fewer_collections():
                runner.run_forever(stop)
        except KeyboardInterrupt:
            stop.set()
        console.print(f"stopped at position {runner.position()}")


def register(app: typer.Typer) -> None:
    app.command("rebuild")(rebuild)
    app.command("reconcile")(reconcile)
    app.command("project")(project)
    app.command("migrate")(migrate)
