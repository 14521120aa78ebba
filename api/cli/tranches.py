"""`fundledger tranche preview|propose|approve`: semester tranches of formula funding from the
command line, with the same rules as the API (docs/formula-funding.md)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console
from rich.table import Table

from api.cli.bureaus import BureauOption
from api.cli.errors import cli_command
from api.cli.options import Token, business_day, signed_in
from api.cli.terminal import stdout_console
from domain.actors import Actor
from domain.enrolment_snapshot import EnrolmentSnapshot
from domain.errors import InvalidInput
from domain.formula_funding import FormulaFunding
from domain.tranche import TranchePlan, plain
from domain.units import money_text

LINES_PRINTED_MAX = 40
stdout = Console(soft_wrap=True)
tranche_app = typer.Typer(help="Semester tranches of per-pupil funding: preview, propose, approve.",
                          no_args_is_help=True)
Fund = Annotated[str, typer.Option(help="The fund's code")]
Snapshot = Annotated[str, typer.Option(help="The enrolment snapshot's name or id")]
Semester = Annotated[str, typer.Option(help="spring or autumn")]
Share = Annotated[str, typer.Option(help="The semester's share of the year")]
EffectiveDate = Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today)")]


@contextmanager
def _service(token: str, bureau: str | None) -> Iterator[tuple[FormulaFunding, Actor]]:
    with signed_in(token, bureau) as (ledger, actor):
        yield FormulaFunding(ledger), actor


def _snapshot_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        return EnrolmentSnapshot.id_for(text)


def _print_plan(plan: TranchePlan) -> None:
    table = Table("school", "level", "pupils", "counted", "boarders", "special needs", "rate",
                  "amount", title=f"{plan.fund} · {plan.snapshot_name} · {plan.semester} × {plan.share}")
    for line in plan.lines[:LINES_PRINTED_MAX]:
        table.add_row(line.school, line.level, str(line.pupils), str(line.counted_pupils),
                      str(line.boarders), str(line.special_needs),
                      money_text(line.rate, plan.unit, "zh"), money_text(line.amount, plan.unit, "zh"))
    stdout_console().print(table)  # a pipe or a file gets the whole table
    if len(plan.lines) > LINES_PRINTED_MAX:
        stdout.print(f"… and {len(plan.lines) - LINES_PRINTED_MAX} more schools")
    for excluded in plan.excluded:
        stdout.print(f"left out {excluded['school']}: {excluded['reason']}")
    for missing in plan.missing_standards:
        stdout.print(f"[red]no approved standard[/red] for {missing['level']} "
                     f"({missing['schools']} schools)")
    stdout.print(f"{len(plan.lines)} schools, total {money_text(plan.total, plan.unit, 'zh')} "
                 f"(rounding difference {plain(plan.rounding_difference)} fen); available "
                 f"{money_text(plan.available, plan.unit, 'zh')}"
                 + (f"; [red]short by {money_text(plan.shortfall, plan.unit, 'zh')}[/red]"
                    if plan.shortfall else ""))


@cli_command
def preview(fund: Fund, snapshot: Snapshot, semester: Semester = "spring", share: Share = "0.5",
            effective_date: EffectiveDate = None, token: Token = "",
            bureau: BureauOption = None) -> None:
    """Every eligible school's amount with its inputs; writes nothing."""
    with _service(token, bureau) as (service, actor):
        _print_plan(service.preview_tranche(actor, fund=fund, snapshot=_snapshot_id(snapshot),
                                            semester=semester, share=share,
                                            effective_date=business_day(effective_date)))


@cli_command
def propose(fund: Fund, snapshot: Snapshot, semester: Semester = "spring", share: Share = "0.5",
            effective_date: EffectiveDate = None, token: Token = "",
            idempotency_key: Annotated[str | None, typer.Option()] = None,
            bureau: BureauOption = None) -> None:
    """Previews, then proposes every line as one batch (refused if anything changed between)."""
    with _service(token, bureau) as (service, actor):
        fields = {"fund": fund, "snapshot": _snapshot_id(snapshot), "semester": semester,
                  "share": share, "effective_date": business_day(effective_date)}
        plan = service.preview_tranche(actor, **fields)
        _print_plan(plan)
        outcome = service.propose_tranche(actor, **fields, plan=plan.mark,
                                          idempotency_key=idempotency_key)
        tranche = outcome.subject
        stdout.print(f"proposed tranche {tranche.id}: {len(tranche.lines)} allocations, "
                     f"{money_text(tranche.total, tranche.unit, 'zh')}, position {outcome.position}")


@cli_command
def approve(
    tranche: Annotated[str, typer.Argument(help="The tranche's id")], token: Token = "",
    exclude: Annotated[list[str] | None, typer.Option(
        help="SCHOOL=REASON: leave this school's allocation proposed (repeatable)")] = None,
    effective_date: EffectiveDate = None,
    bureau: BureauOption = None,
) -> None:
    """Approves every allocation of a tranche at once (not the person who proposed it)."""
    excluded: dict[str, str] = {}
    for item in exclude or []:
        school, _, reason = item.partition("=")
        if not reason.strip():
            msg = f"--exclude {item!r}: write SCHOOL=REASON"
            raise InvalidInput(msg)
        excluded[school.strip()] = reason.strip()
    try:
        tranche_id = UUID(tranche)
    except ValueError:
        msg = f"{tranche!r} is not a tranche id"
        raise InvalidInput(msg) from None
    with _service(token, bureau) as (service, actor):
        outcome = service.approve_tranche(actor, tranche_id, exclude=excluded,
                                          effective_date=business_day(effective_date))
        approved = outcome.subject
        stdout.print(f"approved tranche {approved.id}: "
                     f"{len(approved.lines) - len(approved.excluded)} allocations; "
                     f"{len(approved.excluded)} left proposed; position {outcome.position}")


def register(app: typer.Typer) -> None:
    tranche_app.command("preview")(preview)
    tranche_app.command("propose")(propose)
    tranche_app.command("approve")(approve)
    app.add_typer(tranche_app, name="tranche")
