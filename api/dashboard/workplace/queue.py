"""The approver's queue: proposed allocations, pending two-person changes (/v1/changes kinds)
and proposed tranches made by others, filtered by fund, school, maker and age; approved or
rejected one by one or several at once. Each item stays maker–checker: the page offers no
approve button on one's own item, and the ledger refuses it anyway (403 maker_checker).

GET /dashboard/work/queue · POST /dashboard/work/queue/{kind}/{id}/{approve|reject}
POST /dashboard/work/queue/bulk
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.dashboard.pages import ViewsDb
from api.dashboard.workplace import context
from api.problems import STATUS_BY_CODE
from domain.actors import Role
from domain.errors import LedgerError, MakerCheckerViolation
from domain.formula_funding import FormulaFunding
from domain.ledger import FundLedger, Outcome
from projections.journal import JOURNAL_TABLE

router = APIRouter(prefix="/dashboard/work/queue", include_in_schema=False)
ITEMS_SHOWN_MAX = 500
TRANCHES_LOOKED_AT_MAX = 200
BULK_ITEMS_MAX = 200
RECORDED_LOOKUP_BATCH = 500
KINDS = ("allocation", "change", "tranche")
Filter = Annotated[str, Query(max_length=64)]


@dataclass(frozen=True)
class QueueItem:
    kind: str  # allocation | change | tranche
    id: str
    what: str  # the change kind, or the allocation's purpose
    fund: str
    school: str
    amount: int | None
    unit: str
    maker: str
    made_on: date | None
    mine: bool

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.id}"


def _proposed_tranches(request: Request, db: Any) -> list[Any]:
    ids = [row["entity_id"] for row in db.dicts(
        f"SELECT entity_id FROM {JOURNAL_TABLE} WHERE event = ? "  # noqa: S608
        "ORDER BY position DESC LIMIT ?", ("Tranche.Proposed", TRANCHES_LOOKED_AT_MAX))]
    service = FormulaFunding(request.app.state.ledger)
    found = []
    for tranche_id in ids:
        try:
            tranche = service.tranche(UUID(tranche_id))
        except LedgerError:
            continue
        if tranche.status == "proposed":
            found.append(tranche)
    return found


def queue_items(request: Request, db: Any, me: str) -> list[QueueItem]:
    """Everything waiting for an approver, oldest first."""
    queries, ledger = request.app.state.queries, request.app.state.ledger
    tranches = _proposed_tranches(request, db)
    in_tranches = {str(line["allocation"]) for t in tranches for line in t.lines}
    items = [QueueItem("tranche", str(t.id), f"{t.semester} × {t.share}", t.fund_code, "",
                       t.total, t.unit, t.proposed_by, t.effective_date, t.proposed_by == me)
             for t in tranches]
    proposed, _ = queries.list_allocations(status="proposed", limit=ITEMS_SHOWN_MAX)
    proposed = [a for a in proposed if a.id not in in_tranches]
    changes, _ = queries.list_changes(status="pending", limit=ITEMS_SHOWN_MAX)
    # A waiting item's last event is its proposal: the day it was recorded is when it began
    # to wait (the effective date may lie weeks before).
    recorded = _recorded_days(db, [a.position for a in proposed] + [c.position for c in changes])
    items += [QueueItem("allocation", a.id, a.purpose, a.fund, a.school, a.amount, a.unit,
                        a.proposed_by, recorded.get(a.position, a.effective_date),
                        a.proposed_by == me)
              for a in proposed]
    for change in changes:
        fund, school, unit = _change_subject(ledger, change.subjects, change.params)
        amount = next((change.params[k] for k in ("amount", "delta")
                       if isinstance(change.params.get(k), int)), None)
        items.append(QueueItem("change", change.change, change.kind, fund, school, amount, unit,
                               change.maker, recorded.get(change.position,
                                                          date.fromisoformat(change.proposed_on)),
                               change.maker == me))
    return sorted(items, key=lambda i: (i.made_on or date.min, i.kind, i.id))


def _recorded_days(db: Any, positions: list[int]) -> dict[int, date]:
    found: dict[int, date] = {}
    for start in range(0, len(positions), RECORDED_LOOKUP_BATCH):
        batch = positions[start:start + RECORDED_LOOKUP_BATCH]
        for row in db.dicts(f"SELECT position, recorded_at FROM {JOURNAL_TABLE} "  # noqa: S608
                            f"WHERE position IN ({db.dialect.marks(len(batch))})", tuple(batch)):
            found[int(row["position"])] = date.fromisoformat(str(row["recorded_at"])[:10])
    return found


def _change_subject(ledger: FundLedger, subjects: list[str], params: dict[str, Any]
                    ) -> tuple[str, str, str]:
    """The fund and school a change concerns (its first allocation's, or its fund)."""
    for subject in subjects:
        kind, _, name = subject.partition(":")
        try:
            if kind == "allocation":
                allocation = ledger.get_allocation(UUID(name))
                return allocation.fund_code, allocation.school_code, allocation.unit
            if kind == "fund":
                return name, "", ledger.get_fund(name).unit
        except (LedgerError, ValueError):
            continue
    return str(params.get("fund", "")), "", "CNY"


def _filtered(items: list[QueueItem], fund: str, school: str, maker: str, older_than: int,
              today: date) -> list[QueueItem]:
    return [i for i in items
            if (not fund or i.fund == fund) and (not school or i.school == school)
            and (not maker or i.maker == maker)
            and (not older_than or (i.made_on is not None
                                    and (today - i.made_on).days > older_than))]


@router.get("")
def queue(request: Request, db: ViewsDb, fund: Filter = "", school: Filter = "",
          maker: Filter = "", older_than: Annotated[int, Query(ge=0, le=3660)] = 0) -> Response:
    who = context.worker_as(request, db, Role.APPROVER)
    if isinstance(who, Response):
        return who
    today = request.app.state.ledger.today()
    items = queue_items(request, db, who.actor.user_id)
    shown = _filtered(items, fund.strip(), school.strip(), maker.strip(), older_than, today)
    return context.render(request, "work/queue.html", who, db, "work", items=shown,
                          key=context.new_key(), today=today, filters={
                              "fund": fund, "school": school, "maker": maker,
                              "older_than": older_than or ""},
                          makers=sorted({i.maker for i in items}),
                          funds=sorted({i.fund for i in items if i.fund}))


def _decision(ledger: FundLedger, kind: str, item_id: UUID, approve: bool, reason: str
              ) -> Callable[[Any, str], Outcome]:
    """The ledger's own command for one item's decision (the API route's command)."""
    if kind == "allocation":
        if approve:
            return lambda actor, key: ledger.approve_allocation(actor, item_id, idempotency_key=key)
        return lambda actor, key: ledger.reject_allocation(actor, item_id, reason=reason,
                                                           idempotency_key=key)
    if kind == "change":
        if approve:
            return lambda actor, key: ledger.approve_change(actor, item_id, idempotency_key=key)
        return lambda actor, key: ledger.reject_change(actor, item_id, reason=reason,
                                                       idempotency_key=key)
    service = FormulaFunding(ledger)
    if approve:
        return lambda actor, key: service.approve_tranche(actor, item_id, idempotency_key=key)
    return lambda actor, key: service.reject_tranche(actor, item_id, reason=reason,
                                                     idempotency_key=key)


@dataclass
class Decided:
    item: str
    outcome: Outcome | None
    code: str = ""
    title: str = ""
    detail: str = ""


async def _decide(request: Request, who: context.Worker, refs: list[str], approve: bool,
                  reason: str, key: str) -> list[Decided]:
    """Each item on its own (its own write, its own key derived from the form's): one refusal
    does not stop the others, and a resubmitted form replays every item it wrote."""
    from domain.terms import error_title  # noqa: PLC0415

    ledger = request.app.state.ledger
    done: list[Decided] = []
    for ref in refs[:BULK_ITEMS_MAX]:
        kind, _, text = ref.partition(":")
        try:
            if kind not in KINDS:
                raise ValueError(ref)
            command = _decision(ledger, kind, UUID(text), approve, reason)
        except ValueError:
            continue
        try:
            outcome = await context.run(request, lambda c=command, r=ref: c(who.actor, f"{key}:{r}"))
        except LedgerError as error:
            done.append(Decided(ref, None, error.code,
                                error_title(error.code, error.title, who.language),
                                error.detail_in(who.language)))
            continue
        done.append(Decided(ref, outcome))
    return done


async def _decided_page(request: Request, db: Any, approves: Callable[[Any], bool],
                        refs: Callable[[Any], list[str]]) -> Response:
    gated = await context.authorised_post(request, db, Role.APPROVER)
    if isinstance(gated, Response):
        return gated
    who, form = gated
    reason = str(form.get("reason", ""))[:2_000].strip()
    approve = approves(form)
    key = context.form_key(form) or context.new_key()
    done = await _decide(request, who, refs(form), approve, reason, key)
    refused = [d for d in done if d.outcome is None]
    status = 200
    if done and len(refused) == len(done):
        codes = {d.code for d in refused}
        status = 403 if MakerCheckerViolation.code in codes else STATUS_BY_CODE.get(refused[0].code, 409)
    return await run_in_threadpool(lambda: context.render(
        request, "work/decided.html", who, db, "work", status, done=done, approve=approve,
        key=key))


@router.post("/bulk")
async def decide_many(request: Request, db: ViewsDb) -> Response:
    """The ticked items, approved or rejected (the button pressed: `decision`)."""
    return await _decided_page(request, db, lambda form: form.get("decision") == "approve",
                               lambda form: [str(v) for v in form.getlist("item")])


@router.post("/{kind}/{item_id}/{decision}")
async def decide_one(request: Request, db: ViewsDb, kind: str, item_id: UUID,
                     decision: str) -> Response:
    if kind not in KINDS or decision not in ("approve", "reject"):
        return Response(status_code=404)
    return await _decided_page(request, db, lambda form: decision == "approve",
                               lambda form: [f"{kind}:{item_id}"])
