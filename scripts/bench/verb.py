"""`fundledger bench [--quick] [--events N] [--database-url URL]`: the side-by-side benchmark
(scripts/bench), printed as one table and written to docs/benchmarks.md. A verb of the
`fundledger` console script that scripts/console.py adds to api/cli's verbs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.errors import cli_command
from domain.errors import InvalidInput

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/fundledger_bench"


@cli_command
def bench(
    quick: Annotated[bool, typer.Option("--quick", help="A few minutes, about 60,000 events")] = False,
    events: Annotated[int | None, typer.Option(
        "--events", min=1_000, max=20_000_000,
        help="Events to generate (about); beyond one fiscal year's (about 2.7 million), the "
             "years before 2025 too, each closed into the next")] = None,
    database_url: Annotated[str, typer.Option(
        "--database-url", help="Scratch PostgreSQL database, created and dropped by the run; "
                               "its name must start with fundledger_bench")] = DEFAULT_URL,
    postgres: Annotated[bool, typer.Option("--postgres/--no-postgres")] = True,
    sqlite: Annotated[bool, typer.Option("--sqlite/--no-sqlite")] = True,
    views_follow: Annotated[bool | None, typer.Option(
        "--views-follow/--no-views-follow",
        help="Keep the views in a process of their own while the log is generated (PostgreSQL; "
             "default: when more than one fiscal year is generated)")] = None,
    out: Annotated[Path, typer.Option("--out", help="Markdown file for the table")] = Path(
        "docs/benchmarks.md"),
    profile: Annotated[Path | None, typer.Option("--profile",
                                                 help="Write py-spy profiles here")] = None,
    only: Annotated[str, typer.Option(
        "--only", help="Comma list of parts: bulk, rebuild, writes, http, verify, reads, "
                       "beancount, raw (default: all); or `screens` alone")] = "",
    store: Annotated[list[str] | None, typer.Option(
        "--store", help="screens: an existing full-size store's URL (repeat for both)")] = None,
    label: Annotated[str, typer.Option("--label", help="screens: the column, e.g. before or after")
                     ] = "after",
    screen: Annotated[list[str] | None, typer.Option(
        "--screen", help="screens: measure only this row (its key, e.g. findings_api_cold; "
                         "repeat); the other rows of the column are kept")] = None,
) -> None:
    """Measure writes (group commit or not, in-process and HTTP), raw PostgreSQL, bulk import,
    rebuild, reads, verify and beancount, side by side on PostgreSQL and SQLite; or, with
    `--only screens --store URL`, each screen an auditor opens on existing full-size stores."""
    from scripts.bench import PARTS, BenchOptions, run_bench  # noqa: PLC0415  (heavy; only this verb)
    from scripts.bench.scratch import ScratchRefused  # noqa: PLC0415
    from scripts.bench.workload import TooManyEvents  # noqa: PLC0415

    if only.strip() == "screens":
        if not store:
            msg = "--only screens needs --store URL (an existing full-size store), once per store"
            raise InvalidInput(msg)
        from scripts.bench import screens  # noqa: PLC0415

        screens.run(store, label, out, only=frozenset(screen or ()))
        return
    parts = frozenset(p.strip() for p in only.split(",") if p.strip()) or frozenset(PARTS)
    unknown = sorted(parts - set(PARTS))
    if unknown:
        msg = f"--only: unknown part(s) {', '.join(unknown)}; known: {', '.join(PARTS)}"
        raise InvalidInput(msg)
    try:
        run_bench(BenchOptions(quick=quick, events=events,
                               postgres_url=database_url if postgres else None, sqlite=sqlite,
                               out=out, profile_dir=profile, parts=parts,
                               views_follow=views_follow))
    except (ScratchRefused, TooManyEvents) as error:
        raise InvalidInput(str(error)) from None


def register(app: typer.Typer) -> None:
    app.command("bench")(bench)
