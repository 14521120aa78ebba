"""The year-end close in the workplace: for a fund of the year, what the close would do with
each approved allocation's remainder — carried over (结转, same purpose) or recovered (结余) —
by the domain's own rule (domain/dispositions.py `decide`, the fund's default choice), and
the approver's form to propose the close, a two-person change another approver applies.

The month-end close (月结, domain/periods.py) is proposed here too, with the command the API
route calls; the closed months are listed on /dashboard/periods.

GET /dashboard/work/year-end?fund= · POST /dashboard/work/year-end/{code}/close
POST /dashboard/work/year-end/month-close
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.dashboard.i18n import translate
from api.dashboard.pages import ViewsDb
from api.dashboard.workplace import context, submission
from api.routes.funds import fund_codes_of_year
from api.routes.periods import ClosePeriod
from api.schemas.funds import CloseFund
from domain.actors import Role
from domain.dispositions import Choice, decide, is_money
from domain.errors import LedgerError
from domain.ledger import Outcome

router = APIRouter(prefix="/dashboard/work/year-end", include_in_schema=False)
ROWS_SHOWN_MAX = 1_000  # the views answer at most this many rows a page
CLOSE = submission.FormRules(CloseFund, Role.APPROVER)
CLOSE_MONTH = submission.FormRules(ClosePeriod, Role.APPROVER)
MONTH_TEXT_LENGTH = 7  # YYYY-MM


@dataclass(frozen=True)
class Remainder:
    allocation: str
    school: str
    purpose: str
    remaining: int
    disposition: str  # carry_over | surplus | refused (the rule's refusal, e.g. unexplained)
    rule: str


def preview(request: Request, code: str) -> tuple[Any, list[Remainder]]:
    """The fund and, per approved allocation with a remainder, what its close would do."""
    ledger, queries = request.app.state.ledger, request.app.state.queries
    fund = queries.fund_balance(code)
    rows, _ = queries.list_allocations(fund=code, status="approved", limit=ROWS_SHOWN_MAX)
    shown = []
    for row in rows:
        if row.remaining <= 0:
            continue
        allocation = ledger.get_allocation(UUID(row.id))
        try:
            disposition, rule = decide(fund.category, Choice(), fiscal_year=fund.fiscal_year,
                                       carried_since=getattr(allocation, "carried_since", None),
                                       carry_over_years_max=ledger.carry_over_years_max)
            chosen = disposition.value
        except LedgerError as error:
            chosen, rule = "refused", error.code
        shown.append(Remainder(row.id, row.school, row.purpose, allocation.remaining, chosen,
                               rule))
    return fund, shown


def _page(request: Request, db: Any, who: context.Worker, code: str, status_code: int = 200,
          **extra: Any) -> Response:
    year = request.app.state.ledger.today().year
    funds, _ = request.app.state.queries.list_funds(fiscal_year=year, limit=ROWS_SHOWN_MAX)
    money = [f for f in funds if is_money(f.unit) and f.status == "open"]
    fund, rows = (None, [])
    if code:
        try:
            fund, rows = preview(request, code)
        except LedgerError:
            fund, rows = None, []
    totals = {d: sum(r.remaining for r in rows if r.disposition == d)
              for d in ("carry_over", "surplus", "refused")}
    extra.setdefault("key", context.new_key())
    extra.setdefault("values", {})
    extra.setdefault("errors", {})
    return context.render(request, "work/year_end.html", who, db, "work", status_code,
                          funds=money, fund=fund, rows=rows, totals=totals, chosen=code, **extra)


@router.get("")
def year_end(request: Request, db: ViewsDb,
             fund: Annotated[str, Query(max_length=64)] = "") -> Response:
    who = context.worker(request)
    if isinstance(who, Response):
        return who
    return _page(request, db, who, fund.strip())


@router.post("/month-close")
async def propose_month_close(request: Request, db: ViewsDb) -> Response:
    """The approver's proposal to close a month (月结): pending until another approver applies
    it; the ledger refuses a month not over, closed already, or with changes pending in it."""
    form = await request.form()
    month = str(form.get("month", ""))[:MONTH_TEXT_LENGTH]

    def show_again(who: context.Worker, values: dict[str, Any], key: str,
                   errors: dict[str, str], problem: str, detail: str, status: int) -> Response:
        return _page(request, db, who, "", status, key=key, values={**values, "month": month},
                     errors=errors, problem=problem, problem_detail=detail)

    def written(who: context.Worker, outcome: Outcome, key: str) -> Response:
        links = [(translate("periods", who.language), "/dashboard/periods"),
                 (translate("queue", who.language), "/dashboard/work/queue")]
        return context.written(request, who, db, outcome, "propose_month_close", links, key,
                               pending=True)

    return await submission.submit(
        request, db, CLOSE_MONTH, lambda ledger, who, body, key: ledger.close_period(
            who.actor, month, **body.model_dump(), idempotency_key=key), show_again, written)


@router.post("/{code}/close")
async def propose_close(request: Request, db: ViewsDb, code: str) -> Response:
    """The approver's proposal of the fund's close: pending until another approver applies it."""
    def show_again(who: context.Worker, values: dict[str, Any], key: str,
                   errors: dict[str, str], problem: str, detail: str, status: int) -> Response:
        return _page(request, db, who, code, status, key=key, values=values, errors=errors,
                     problem=problem, problem_detail=detail)

    def written(who: context.Worker, outcome: Outcome, key: str) -> Response:
        links = [(translate("year_end_page", who.language), f"/dashboard/work/year-end?fund={code}"),
                 (translate("queue", who.language), "/dashboard/work/queue")]
        return context.written(request, who, db, outcome, "propose_year_close", links, key,
                               pending=True)

    def run(ledger: Any, who: context.Worker, body: Any, key: str) -> Outcome:
        next_year = fund_codes_of_year(request, ledger.get_fund(code).fiscal_year + 1)
        return ledger.close_fund(who.actor, code, **body.model_dump(),
                                 next_year_funds=next_year, idempotency_key=key)

    return await submission.submit(request, db, CLOSE, run, show_again, written)
