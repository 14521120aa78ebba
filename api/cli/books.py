"""`fundledger school register`, `fund open`, `allocation propose|approve`, `expenditure record`:
the everyday commands of the books for scripts and cron jobs, as the HTTP API has them.

Amounts are typed as people write them: yuan with at most two decimals for CNY (`1234.50`),
a whole count for resource units; the books keep integer minor units. Each command prints one
line: what it wrote, the amount in yuan, the id and the journal position. The same
`--idempotency-key` makes a retried command write nothing new.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import typer

from api.cli.bureaus import BureauOption
from api.cli.errors import cli_command
from api.cli.options import Token, business_day, signed_in
from domain.errors import AmountOutOfRange, InvalidInput

if TYPE_CHECKING:
    from domain.actors import Actor
    from domain.ledger import FundLedger, Outcome

school_app = typer.Typer(help="Register schools.", no_args_is_help=True)
fund_app = typer.Typer(help="Open funds.", no_args_is_help=True)
allocation_app = typer.Typer(help="Propose and approve allocations.", no_args_is_help=True)
expenditure_app = typer.Typer(help="Record expenditures.", no_args_is_help=True)

Key = Annotated[str | None, typer.Option(help="The same key again writes nothing new")]
Day = Annotated[str | None, typer.Option(help="Effective date YYYY-MM-DD (default: today)")]


def minor_units(text: str, unit_code: str) -> int:
    """`1234.50` yuan → 123450 fen; `3` teacher posts → 3. Never through a float."""
    from domain.units import unit_of  # noqa: PLC0415

    unit = unit_of(unit_code)
    try:
        major = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        msg = f"amount {text!r} is not a number"
        raise AmountOutOfRange(msg) from None
    minor = major.scaleb(unit.decimal_places)
    if not minor.is_finite() or minor != minor.to_integral_value():
        msg = f"amount {text} has more than {unit.decimal_places} decimal places for {unit.code}"
        raise AmountOutOfRange(msg)
    return int(minor)


def _amount(text: str, unit_code: str) -> tuple[int, str]:
    """The amount typed, in the unit's minor units, and as the command prints it back."""
    from domain.units import money_text  # noqa: PLC0415  (--help does not pay for it)

    minor = minor_units(text, unit_code)
    return minor, money_text(minor, unit_code)


def _done(what: str, outcome: Outcome, amount: str = "") -> None:
    subject = outcome.subject
    name = getattr(subject, "code", None) or subject.id
    again = " (a repeat: nothing new written)" if outcome.replayed else ""
    typer.echo(f"{what} {name}{' ' + amount if amount else ''}{again}; position {outcome.position}")


def _run(token: str, bureau: str | None,
         command: Callable[[FundLedger, Actor], tuple[str, Outcome, str]]) -> None:
    with signed_in(token, bureau) as (ledger, actor):
        what, outcome, amount = command(ledger, actor)
    _done(what, outcome, amount)


@school_app.command("register")
@cli_command
def register_school(
    code: Annotated[str, typer.Argument(help="School code, e.g. XZ-PX-0001")],
    name: Annotated[str, typer.Option(help="Name, e.g. 沛县实验小学")],
    district: Annotated[str, typer.Option(help="District or county as stored, e.g. Pei")],
    level: Annotated[str, typer.Option(help="primary, junior, nine_year, …")],
    locale: Annotated[str, typer.Option(help="urban, town or rural")],
    students: Annotated[int, typer.Option(help="Pupils enrolled")],
    token: Token = "",
    poverty_area: Annotated[bool, typer.Option(help="In a poverty-alleviation area")] = False,
    effective_date: Day = None,
    idempotency_key: Key = None,
    bureau: BureauOption = None,
) -> None:
    """Register a school (officer)."""
    _run(token, bureau, lambda ledger, actor: ("registered school", ledger.register_school(
        actor, code=code, name=name, district=district, level=level, locale=locale,
        poverty_area=poverty_area, students=students, effective_date=business_day(effective_date),
        idempotency_key=idempotency_key), ""))


@fund_app.command("open")
@cli_command
def open_fund(
    code: Annotated[str, typer.Argument(help="Fund code, e.g. 2025-PUB")],
    name: Annotated[str, typer.Option(help="Name, e.g. 2025年生均公用经费")],
    fiscal_year: Annotated[int, typer.Option("--fiscal-year", "--year", help="Fiscal year")],
    amount: Annotated[str, typer.Option(help="Appropriation: yuan for CNY (1234.50), else a count")],
    source: Annotated[str, typer.Option(help="central, provincial, municipal, county or other")],
    category: Annotated[str, typer.Option(help="public_operating, personnel, facilities, …")],
    token: Token = "",
    unit: Annotated[str, typer.Option(help="CNY or a resource unit, e.g. TEACHER_POST")] = "CNY",
    earmark: Annotated[str, typer.Option(help="none or rural_support")] = "none",
    function_code: Annotated[str | None, typer.Option(
        help="政府收支分类 functional code, e.g. 2050202 (default: by level)")] = None,
    doc_no: Annotated[str, typer.Option(help="The issuing document's number (文号)")] = "",
    issuing_level: Annotated[str | None, typer.Option(help="Default: --source")] = None,
    received_on: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: opening)")] = None,
    share: Annotated[list[str] | None, typer.Option(
        help="A level's share, e.g. central=500000.00 (repeat; they sum to --amount)")] = None,
    effective_date: Day = None,
    idempotency_key: Key = None,
    bureau: BureauOption = None,
) -> None:
    """Open a fund of one fiscal year (officer), with its classification and provenance."""
    minor, shown = _amount(amount, unit)
    shares = [{"source": level, "amount": minor_units(value, unit)}
              for level, _, value in (s.partition("=") for s in share or [])]
    _run(token, bureau, lambda ledger, actor: ("opened fund", ledger.open_fund(
        actor, code=code, name=name, fiscal_year=fiscal_year, unit=unit, amount=minor,
        source=source, category=category, earmark=earmark, function_code=function_code,
        doc_no=doc_no, issuing_level=issuing_level, received_on=business_day(received_on, "--received-on"),
        shares=shares, effective_date=business_day(effective_date),
        idempotency_key=idempotency_key), shown))


@allocation_app.command("propose")
@cli_command
def propose_allocation(
    fund: Annotated[str, typer.Option(help="Fund code")],
    school: Annotated[str, typer.Option(help="School code")],
    amount: Annotated[str, typer.Option(help="Yuan for a CNY fund (1234.50), else a count")],
    purpose: Annotated[str, typer.Option(help="What it is for, e.g. 春季公用经费")],
    token: Token = "",
    effective_date: Day = None,
    idempotency_key: Key = None,
    bureau: BureauOption = None,
) -> None:
    """Propose an allocation of a fund to a school (officer); an approver decides on it."""

    def propose(ledger: FundLedger, actor: Actor) -> tuple[str, Outcome, str]:
        minor, shown = _amount(amount, ledger.get_fund(fund).unit)
        return "proposed allocation", ledger.propose_allocation(
            actor, fund=fund, school=school, amount=minor, purpose=purpose,
            effective_date=business_day(effective_date), idempotency_key=idempotency_key), shown

    _run(token, bureau, propose)


@allocation_app.command("approve")
@cli_command
def approve_allocation(
    allocation: Annotated[str, typer.Argument(help="The allocation's id")],
    token: Token = "",
    effective_date: Day = None,
    idempotency_key: Key = None,
    bureau: BureauOption = None,
) -> None:
    """Approve a proposed allocation (approver; never your own proposal)."""
    allocation_id = _uuid(allocation)
    _run(token, bureau, lambda ledger, actor: ("approved allocation", ledger.approve_allocation(
        actor, allocation_id, effective_date=business_day(effective_date),
        idempotency_key=idempotency_key), ""))


@expenditure_app.command("record")
@cli_command
def record_expenditure(
    allocation: Annotated[str, typer.Option(help="The approved allocation's id")],
    amount: Annotated[str, typer.Option(help="Yuan for CNY (1234.50), else a count")],
    payee: Annotated[str, typer.Option(help="Who was paid")],
    voucher: Annotated[str, typer.Option(help="Voucher number, e.g. 记-12-0050")],
    spent_on: Annotated[str, typer.Option(help="Date paid YYYY-MM-DD")],
    token: Token = "",
    description: Annotated[str, typer.Option(help="摘要")] = "",
    economic_class: Annotated[str | None, typer.Option(help="office, utilities, training, …")] = None,
    idempotency_key: Key = None,
    bureau: BureauOption = None,
) -> None:
    """Record spending against an approved allocation (officer)."""
    allocation_id = _uuid(allocation)

    def record(ledger: FundLedger, actor: Actor) -> tuple[str, Outcome, str]:
        minor, shown = _amount(amount, ledger.get_allocation(allocation_id).unit)
        day = business_day(spent_on, "--spent-on")
        assert day is not None
        return "recorded expenditure", ledger.record_expenditure(
            actor, allocation=allocation_id, amount=minor, payee=payee, voucher=voucher,
            spent_on=day, description=description, economic_class=economic_class,
            idempotency_key=idempotency_key), shown

    _run(token, bureau, record)


def _uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        msg = f"{text!r} is not an id"
        raise InvalidInput(msg) from None


def register(app: typer.Typer) -> None:
    app.add_typer(school_app, name="school")
    app.add_typer(fund_app, name="fund")
    app.add_typer(allocation_app, name="allocation")
    app.add_typer(expenditure_app, name="expenditure")
