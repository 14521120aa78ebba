"""The auditor's verbs: `verify [--digest FILE]`, `digest [--out FILE]`,
`replay --as-of DATE | --position N`, `report rural-support --year Y --format csv|xlsx`,
`export balances|journal --year Y --format csv|xlsx`."""

from __future__ import annotations

import getpass
import time
from collections.abc import Callable, Iterator, Sized
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from api.cli.bureaus import AllBureaus, BureauOption, books_settings, each_bureau
from api.cli.errors import cli_command
from api.cli.options import FileLanguage, Out, TableFormat, Year, business_day, file_language
from api.cli.terminal import stdout_console
from api.settings import Settings
from api.signing_guard import check_signing_key, trusted_public_keys
from api.store import open_view_runner
from domain.errors import InvalidInput
from domain.ledger import bureau_today
from domain.units import unit_of
from projections import books_queries, chain_checkpoint, digests, export_files, exports
from projections.journal import event_table, events_table_name, journal_head
from projections.queries import BureauQueries
from projections.replay import ReplayedBooks, differences, replay
from projections.runner import ViewRunner
from projections.signed_digests import SignedDigests
from projections.snapshot_check import check_snapshots
from projections.storable_text import nul_note, nul_positions

console = stdout_console()
stderr = Console(stderr=True)

AsOf = Annotated[str | None, typer.Option("--as-of", help="Business date YYYY-MM-DD")]
Format = Annotated[str, typer.Option("--format", help="csv|xlsx")]


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=stderr)


@contextmanager
def _caught_up_views(settings: Settings) -> Iterator[ViewRunner]:
    """The views (and the journal) brought up to the end of the event log."""
    with open_view_runner(settings) as runner:
        runner.run_until_caught_up()
        yield runner


def _counter(bar: Progress, description: str, total: int) -> Callable[[int], None]:
    task = bar.add_task(description, total=max(total, 1), rate="")
    started = time.perf_counter()

    def advance(done: int) -> None:
        elapsed = time.perf_counter() - started
        bar.update(task, completed=done,
                   rate=f"{done / elapsed:,.0f} events/s" if elapsed > 0 else "")

    return advance


# ------------------------------------------------------------------------------- verify

@cli_command
def verify(
    digest: Annotated[Path | None, typer.Option("--digest", help="A digest file to prove history "
                                                                 "up to it is unchanged")] = None,
    public_key: Annotated[Path | None, typer.Option(
        "--public-key", help="The bureau's published public key (default: from the signing key)")] = None,
    bureau: BureauOption = None,
    all_bureaus: AllBureaus = False,
) -> None:
    """Recompute the hash chain from the event store; name the first altered, removed or
    inserted event. With --digest: prove history up to that digest is unchanged."""
    each_bureau(bureau, all_bureaus, lambda settings: _verify(settings, digest, public_key))


def _verify(settings: Settings, digest: Path | None, public_key: Path | None) -> None:
    with _caught_up_views(settings) as runner:
        if digest is not None:
            _verify_digest(runner, settings, digest, public_key)
            return
        with _progress() as bar:
            started = time.perf_counter()
            # A whole chain's head becomes the audit page's signed checkpoint.
            result = chain_checkpoint.verify_whole(
                runner.db, digests.signing_key(settings.signing_key_path),
                _counter(bar, "verifying", journal_head(runner.db)))
            seconds = time.perf_counter() - started
        snapshot_problems = check_snapshots(runner.ledger)
        # Not a failure: named so an auditor knows why the views differ from the event there.
        for position in nul_positions(runner.db, events_table_name(runner.db)):
            console.print(f"[yellow]NOTE[/yellow] {nul_note(position)}", highlight=False)
    rate = result.checked / seconds if seconds > 0 else 0.0
    for line in snapshot_problems:
        console.print(f"[red]SNAPSHOT[/red] {line}", highlight=False)
    if result.ok and not snapshot_problems:
        console.print(f"ok: {result.checked:,} events verified up to position "
                      f"{result.head_position} ({rate:,.0f} events/s); every snapshot sealed "
                      f"and equal to a replay of its events\nhead {result.head_hash}")
        if result.pending:
            console.print(f"{result.pending} later event(s) are not journaled yet")
        return
    if result.ok:
        console.print(f"{len(snapshot_problems)} snapshot(s) fail their check; commands ignore "
                      "them and replay the events, but someone wrote to the snapshot table")
        raise typer.Exit(1)
    console.print(f"[red]TAMPERED[/red]: event {result.problem} at position "
                  f"{result.first_bad_position}; {result.checked:,} events before it verified",
                  highlight=False)
    raise typer.Exit(1)


def _key_on_record_for(digest: digests.Digest, runner: ViewRunner,
                       settings: Settings) -> Any:
    """The key a digest names, when the bureau's records say it signed digests (a digest
    from before a rotation); else the key configured now."""
    if digest.public_key in trusted_public_keys(runner.ledger, runner.db):
        return digests.public_key_from_raw_hex(digest.public_key)
    return digests.signing_key(settings.signing_key_path).public_key()


def _verify_digest(runner: ViewRunner, settings: Settings, path: Path,
                   public_key: Path | None) -> None:
    try:
        digest = digests.Digest.read(path)
        trusted = (digests.public_key_from_pem(public_key.read_bytes()) if public_key
                   else _key_on_record_for(digest, runner, settings))
    except (OSError, digests.DigestInvalid) as error:
        raise InvalidInput(str(error)) from None
    with _progress() as bar:
        check = digests.check_history(digest, event_table(runner.db), trusted,
                                      _counter(bar, "rehashing", digest.position))
    if check.ok:
        console.print(f"ok: {check.reason}; signed {digest.signed_at}\nhead {check.recomputed_hash}")
        return
    console.print(f"[red]DIGEST DOES NOT HOLD[/red]: {check.reason}", highlight=False)
    raise typer.Exit(1)


@cli_command
def digest(out: Annotated[Path | None, typer.Option("--out", help="Where to write the digest")] = None,
           bureau: BureauOption = None) -> None:
    """Sign the journal's head (position, hash, time) with the bureau's key; keep the file."""
    settings = books_settings(bureau)
    with _caught_up_views(settings) as runner:
        check_signing_key(settings, runner.ledger, runner.db)  # never sign with another key
        key = digests.signing_key(settings.signing_key_path)
        try:
            signed = digests.digest_of_journal(runner.db, key)
        except digests.DigestInvalid as error:
            raise InvalidInput(str(error)) from None
        SignedDigests(runner.db).keep(signed, f"cli:{getpass.getuser()}")
    if out is None:
        typer.echo(signed.to_json(), nl=False)
    else:
        out.write_text(signed.to_json(), encoding="utf-8")
        console.print(f"digest of position {signed.position} written to {out}; public key: "
                      f"{digests.public_key_path(settings.signing_key_path)}")


@cli_command
def digests_listed(limit: Annotated[int, typer.Option(min=1, max=1000, help="How many")] = 50,
                   bureau: BureauOption = None) -> None:
    """List the digests signed so far (API, CLI and dashboard alike), newest first."""
    settings = books_settings(bureau)
    with _caught_up_views(settings) as runner:
        kept = SignedDigests(runner.db).listed(limit)
    table = Table(title=f"Digests signed so far ({len(kept)})")
    for column in ("signed at", "position", "events", "head hash", "signed by"):
        table.add_column(column)
    for signed, by in kept:
        table.add_row(signed.signed_at[:19].replace("T", " "), str(signed.position),
                      str(signed.events), signed.head_hash[:16], by)
    console.print(table)


# ------------------------------------------------------------------------------- replay

@cli_command
def replay_command(
    as_of: AsOf = None,
    position: Annotated[int | None, typer.Option("--position", min=1, help="Replay up to this event")] = None,
    year: Annotated[int | None, typer.Option("--fiscal-year", "--year",
                                             help="Fiscal year (default: the date's)")] = None,
    output_format: TableFormat = "table",
    out: Out = None,
    bureau: BureauOption = None,
) -> None:
    """Replay the event store from the start into fresh in-memory books up to a date or
    position; show the balances and rural-support report as they stood, and compare them with
    the stored views' as-of queries (non-zero exit on any difference)."""
    day = business_day(as_of, "--as-of")
    if day is None and position is None:
        msg = "give --as-of DATE or --position N (or both)"
        raise InvalidInput(msg)
    fiscal_year = year or (day or bureau_today()).year
    _check_format(output_format, ("table", "csv", "xlsx"), out)
    settings = books_settings(bureau)
    with _caught_up_views(settings) as runner:
        last = min(position, runner.position()) if position else None
        with _progress() as bar:
            books = replay(runner.ledger, as_of=day, position=last,
                           progress=_counter(bar, "replaying", last or runner.position()))
        queries = BureauQueries(settings)
        try:
            lines = differences(books, queries, fiscal_year)
            names = books_queries.school_names(runner.db)
        finally:
            queries.close()
    rows = exports.balance_rows_from_replay(books, fiscal_year, names)
    report = books.rural_support(fiscal_year)
    if output_format == "table":
        _print_balances(books, rows, fiscal_year)
    else:
        built = exports.balances_export(rows, fiscal_year, day)
        built.sheets += exports.rural_export(report).sheets[:2]
        _write(built, output_format, out)
    for line in lines:
        console.print(f"[red]difference[/red] {line}", highlight=False)
    if lines:
        console.print(f"{len(lines)} difference(s) between the replay and the stored views")
        raise typer.Exit(1)
    console.print(f"the replay up to position {books.position} equals the stored views' as-of queries")


def _print_balances(books: ReplayedBooks, rows: list[dict[str, object]], fiscal_year: int) -> None:
    title = f"Balances {fiscal_year} as of {books.as_of or 'now'}, position {books.position}"
    table = Table(title=title)
    for column in ("school", "fund", "unit", "allocated", "spent", "remaining"):
        table.add_column(column, justify="right" if column in ("allocated", "spent", "remaining") else "left")
    for row in rows:
        unit = unit_of(str(row["unit"]))
        table.add_row(str(row["school_code"]), str(row["fund_code"]), export_files.unit_label(unit.code),
                      *(unit.for_people(int(row[k])) for k in ("allocated", "spent", "remaining")))  # type: ignore[call-overload]
    console.print(table)
    report = books.rural_support(fiscal_year)
    rural = Table(title=f"Rural support {fiscal_year}")
    for column in ("district", "locale", "unit", "schools", "students", "allocated", "per student"):
        rural.add_column(column)
    for r in report.rows:
        unit = unit_of(r.unit)
        rural.add_row(r.district, r.locale, export_files.unit_label(r.unit), str(r.schools), str(r.students),
                      unit.for_people(r.allocated),
                      "" if r.per_student_allocated is None else unit.for_people(r.per_student_allocated))
    console.print(rural)
    ratio = report.rural_to_urban_per_student_ratio
    console.print(f"rural/urban per-student ratio: {'n/a' if ratio is None else f'{ratio:.3f}'}")


# ------------------------------------------------------------------------------ exports

def _check_format(output_format: str, allowed: tuple[str, ...], out: Path | None) -> None:
    if output_format not in allowed:
        msg = f"--format must be {' or '.join(allowed)}"
        raise InvalidInput(msg)
    if output_format == "xlsx" and out is None:
        msg = "--format xlsx needs --out FILE"
        raise InvalidInput(msg)


def _write(built: export_files.Export, output_format: str, out: Path | None,
           language: str = "en") -> None:
    """Writes the export while its views are open (the journal's rows are a stream of them)."""
    if out is None:
        typer.echo(built.render(output_format, language).decode("utf-8-sig"), nl=False)
        return
    with out.open("wb") as file:
        built.write(output_format, file, language=language)
    rows = sum(len(sheet.rows) if isinstance(sheet.rows, Sized) else built.rows_expected or 0
               for sheet in built.sheets)
    console.print(f"{built.filename(output_format)}: {rows} rows written to {out}")


def _export(kind: str, year: int, as_of: str | None, output_format: str, out: Path | None,
            bureau: str | None, language: str = "en") -> None:
    _check_format(output_format, export_files.FORMATS, out)
    file_language(language)
    day = business_day(as_of, "--as-of")
    settings = books_settings(bureau)
    with _caught_up_views(settings) as runner:
        queries = BureauQueries(settings)
        try:
            built = exports.build_export(kind, runner.db, queries, year, day)
        except export_files.ExportTooLarge as error:
            raise InvalidInput(str(error)) from None
        finally:
            queries.close()
        _write(built, output_format, out, language)


report_app = typer.Typer(help="Reports for auditors, as CSV or XLSX.", no_args_is_help=True)
export_app = typer.Typer(help="Exports of balances and the journal, as CSV or XLSX.",
                         no_args_is_help=True)


@report_app.command("rural-support")
@report_app.command("rural", hidden=True)  # the first name, kept as an alias
@cli_command
def report_rural(year: Year, output_format: Format = "csv", out: Out = None, as_of: AsOf = None,
        bureau: BureauOption = None, language: FileLanguage = "en") -> None:
    """The rural-support report of a fiscal year (as of a date): per district × locale, per
    student, and each county's difference coefficient."""
    _export("rural", year, as_of, output_format, out, bureau, language)


@report_app.command("carry-over")
@cli_command
def report_carry_over(year: Year, output_format: Format = "csv", out: Out = None,
                      as_of: AsOf = None,
        bureau: BureauOption = None, language: FileLanguage = "en") -> None:
    """The 结转结余 statement of a fiscal year (as of a date): per fund, source level and
    school, carry-in, appropriation, allocated, spent, carried forward, surplus, closing."""
    _export("carry-over", year, as_of, output_format, out, bureau, language)


@export_app.command("balances")
@cli_command
def export_balances(year: Year, output_format: Format = "csv", out: Out = None, as_of: AsOf = None,
        bureau: BureauOption = None, language: FileLanguage = "en") -> None:
    """Every school's per-fund balances of a fiscal year (as of a date), with totals."""
    _export("balances", year, as_of, output_format, out, bureau, language)


@export_app.command("journal")
@cli_command
def export_journal(year: Year, output_format: Format = "csv", out: Out = None, as_of: AsOf = None,
        bureau: BureauOption = None, language: FileLanguage = "en") -> None:
    """The journal of a fiscal year: every event with actor, amount, reason and chain hash."""
    _export("journal", year, as_of, output_format, out, bureau, language)


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
    app.command("digest")(digest)
    app.command("digests")(digests_listed)
    app.command("replay")(replay_command)
    app.add_typer(report_app, name="report")
    app.add_typer(export_app, name="export")
