"""The finance officer's forms: register a school, open a fund, propose an allocation, record
an expenditure. Each is the API's request schema (api/schemas.py) and the ledger command the
API route calls; the page only turns yuan into fen and refusals into messages beside fields.

GET /dashboard/work/{form} shows the form; POST writes once (its idempotency key) or shows
the form again with every refusal, having written nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.dashboard.i18n import translate, translate_value
from api.dashboard.pages import ViewsDb
from api.dashboard.workplace import context, submission
from api.schemas import Command
from api.schemas.allocations import ProposeAllocation
from api.schemas.expenditures import RecordExpenditure
from api.schemas.funds import OpenFund
from api.schemas.schools import RegisterSchool
from domain.actors import Role
from domain.classification import Category, Earmark, ExpenditureClass, Level, Locale, Source
from domain.errors import LedgerError
from domain.ledger import FundLedger, Outcome
from domain.units import KNOWN_UNITS

router = APIRouter(prefix="/dashboard/work", include_in_schema=False)
CHOICES_SHOWN_MAX = 500


@dataclass(frozen=True)
class OfficerForm:
    """One form: its schema, how its fields are typed, the command it runs, where it leads."""

    name: str
    schema: type[Command]
    command: Callable[[FundLedger, Any, Command, str | None], Outcome]
    links: Callable[[Outcome, Callable[[str], str]], list[tuple[str, str]]]
    amounts: tuple[str, ...] = ()
    whole: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)


def _school_links(outcome: Outcome, label: Callable[[str], str]) -> list[tuple[str, str]]:
    code = outcome.subject.code
    return [(f"{label('school')} {code}", f"/dashboard/schools/{code}"),
            (label("propose_allocation"), f"/dashboard/work/propose-allocation?school={code}")]


def _fund_links(outcome: Outcome, label: Callable[[str], str]) -> list[tuple[str, str]]:
    code = outcome.subject.code
    return [(f"{label('fund')} {code}", f"/dashboard/work/funds/{code}"),
            (label("propose_allocation"), f"/dashboard/work/propose-allocation?fund={code}")]


def _allocation_links(outcome: Outcome, label: Callable[[str], str]) -> list[tuple[str, str]]:
    return [(label("allocation"), f"/dashboard/work/allocations/{outcome.subject.id}")]


def _expenditure_links(outcome: Outcome, label: Callable[[str], str]) -> list[tuple[str, str]]:
    return [(label("expenditures"), f"/dashboard/work/expenditures/{outcome.subject.id}"),
            (label("allocation"), f"/dashboard/work/allocations/{outcome.subject.allocation_id}")]


FORMS: dict[str, OfficerForm] = {form.name: form for form in (
    OfficerForm("register_school", RegisterSchool,
                lambda ledger, actor, body, key: ledger.register_school(
                    actor, **body.model_dump(), idempotency_key=key),
                _school_links, whole=("students",), flags=("poverty_area",)),
    OfficerForm("open_fund", OpenFund,
                lambda ledger, actor, body, key: ledger.open_fund(
                    actor, **body.model_dump(), idempotency_key=key),
                _fund_links, amounts=("amount",), whole=("fiscal_year",),
                lists=("levels", "expenditure_classes"), defaults={"unit": "CNY", "earmark": "none"}),
    OfficerForm("propose_allocation", ProposeAllocation,
                lambda ledger, actor, body, key: ledger.propose_allocation(
                    actor, **body.model_dump(), idempotency_key=key),
                _allocation_links, amounts=("amount",)),
    OfficerForm("record_expenditure", RecordExpenditure,
                lambda ledger, actor, body, key: ledger.record_expenditure(
                    actor, **body.model_dump(), idempotency_key=key),
                _expenditure_links, amounts=("amount",)),
)}


def _path(name: str) -> str:
    return name.replace("_", "-")


def _choices(request: Request, who: context.Worker, name: str, values: dict[str, Any]
             ) -> dict[str, Any]:
    """The options a form offers: enumerations in the reader's language, this year's open
    funds, approved allocations with something left."""
    def named(members: Any) -> list[tuple[str, str]]:
        return [(m.value, translate_value(m.value, who.language)) for m in members]

    queries = request.app.state.queries
    today = request.app.state.ledger.today()
    offered: dict[str, Any] = {
        "levels": named(Level), "locales": named(Locale), "sources": named(Source),
        "categories": named(Category), "earmarks": named(Earmark),
        "classes": named(ExpenditureClass), "units": [(u, u) for u in KNOWN_UNITS]}
    if name == "propose_allocation":
        funds, _ = queries.list_funds(fiscal_year=today.year, limit=CHOICES_SHOWN_MAX)
        offered["funds"] = [(f.fund, f"{f.fund} · {f.name}") for f in funds if f.status == "open"]
    if name == "record_expenditure":
        rows, _ = queries.list_allocations(status="approved", fiscal_year=today.year,
                                           school=values.get("school") or None,
                                           limit=CHOICES_SHOWN_MAX)
        offered["allocations"] = [(a.id, f"{a.school} · {a.fund} · {a.purpose}") for a in rows
                                  if a.remaining > 0]
        allowed = _classes_allowed(request, values.get("allocation"))
        if allowed is not None:
            offered["classes"] = [c for c in offered["classes"] if c[0] in allowed]
    return offered


def _classes_allowed(request: Request, allocation: Any) -> set[str] | None:
    """The economic classes the chosen allocation may pay for (its fund's, as the ledger checks
    them), or None while no allocation is chosen: then every class is offered and the ledger's
    check (expenditure_class_not_allowed) still answers."""
    if not allocation:
        return None
    try:
        return set(request.app.state.ledger.get_allocation(UUID(str(allocation)))
                   .expenditure_classes)
    except (LedgerError, ValueError):
        return None


def _unit(request: Request, name: str, form: Any) -> str:
    """The unit its amounts are typed in: the fund's (or allocation's) unit."""
    ledger = request.app.state.ledger
    try:
        if name == "open_fund":
            return str(form.get("unit") or "CNY")
        if name == "propose_allocation" and form.get("fund"):
            return ledger.get_fund(str(form.get("fund"))).unit
        if name == "record_expenditure" and form.get("allocation"):
            return ledger.get_allocation(UUID(str(form.get("allocation")))).unit
    except (LedgerError, ValueError):
        pass
    return "CNY"


def _show(request: Request, who: context.Worker, db: Any, name: str, values: dict[str, Any],
          key: str, errors: dict[str, str] | None = None, problem: str = "",
          status_code: int = 200, problem_detail: str = "") -> Response:
    return context.render(request, f"work/{name}.html", who, db, "work", status_code,
                          form=name, action=f"/dashboard/work/{_path(name)}", values=values,
                          errors=errors or {}, problem=problem, key=key,
                          problem_detail=problem_detail,
                          **_choices(request, who, name, values))


def _page(name: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    spec = FORMS[name]
    rules = submission.FormRules(spec.schema, Role.OFFICER, spec.amounts, spec.whole,
                                 spec.flags, spec.lists)

    def show(request: Request, db: ViewsDb) -> Response:
        who = context.worker_as(request, db, Role.OFFICER)
        if isinstance(who, Response):
            return who
        values = {**spec.defaults, **{k: v for k, v in request.query_params.items()
                                      if k in spec.schema.model_fields or k == "school"}}
        return _show(request, who, db, name, values, context.new_key())

    async def submit(request: Request, db: ViewsDb) -> Response:
        def show_again(who: context.Worker, values: dict[str, Any], key: str,
                       errors: dict[str, str], problem: str, detail: str,
                       status_code: int) -> Response:
            return _show(request, who, db, name, values, key, errors, problem, status_code,
                         detail)

        def written(who: context.Worker, outcome: Outcome, key: str) -> Response:
            return context.written(request, who, db, outcome, name,
                                   spec.links(outcome, lambda k: translate(k, who.language)), key)

        return await submission.submit(
            request, db, rules, lambda ledger, who, body, key: spec.command(
                ledger, who.actor, body, key), show_again, written,
            lambda form: _unit(request, name, form))

    return show, submit


for _name in FORMS:
    _show_page, _submit = _page(_name)
    router.add_api_route(f"/{_path(_name)}", _show_page, methods=["GET"])
    router.add_api_route(f"/{_path(_name)}", _submit, methods=["POST"])
