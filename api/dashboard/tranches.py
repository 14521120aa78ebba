"""The dashboard's formula-funding pages: a tranche's preview (a table the finance officer
checks, and downloads as XLSX, before proposing) and, for approvers, the tranche to approve.

GET /dashboard/tranches?fund=&snapshot=&semester=&share=&effective_date= · POST /dashboard/tranches
GET /dashboard/tranches/preview.xlsx · GET /dashboard/tranches/{id} · POST …/{id}/approve|reject
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.dashboard.i18n import translate
from api.dashboard.pages import PageActor, ViewsDb, _language, _render
from api.dashboard.workplace.csrf import csrf_guard
from domain.actors import Role
from domain.enrolment_snapshot import EnrolmentSnapshot
from domain.errors import LedgerError
from domain.formula_funding import FormulaFunding
from domain.terms import refusal_line
from domain.tranche import TranchePlan
from projections import export_files

router = APIRouter(prefix="/dashboard/tranches", include_in_schema=False,
                   dependencies=[Depends(csrf_guard)])
FIELD_LENGTH_MAX = 200
XLSX_COLUMNS = ("school", "level", "pupils", "teaching_points", "counted_pupils", "boarders",
                "special_needs", "rate", "boarder_addition", "special_needs_addition",
                "small_school_floor", "document", "annual", "share", "exact", "amount", "rounding")


def _form_fields(values: Any) -> dict[str, str]:
    return {k: str(values.get(k, ""))[:FIELD_LENGTH_MAX].strip()
            for k in ("fund", "snapshot", "semester", "share", "effective_date")}


def _snapshot_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        return EnrolmentSnapshot.id_for(text)


def _command(fields: dict[str, str]) -> dict[str, Any]:
    day = None
    if fields["effective_date"]:
        try:
            day = date.fromisoformat(fields["effective_date"])
        except ValueError:
            day = None
    return {"fund": fields["fund"], "snapshot": _snapshot_id(fields["snapshot"]),
            "semester": fields["semester"] or "spring", "share": fields["share"] or "0.5",
            "effective_date": day}


def _problem(error: LedgerError, language: str) -> str:
    """English pages keep the code the officer quotes to support; a Chinese page reads the
    refusal in Chinese only (issue 19)."""
    if language.startswith("zh"):
        return refusal_line(error, language)
    return f"{error.code}: {error.detail}"


@router.get("", response_class=HTMLResponse)
def tranche_preview(request: Request, actor: PageActor, db: ViewsDb) -> Response:
    fields = _form_fields(request.query_params)
    plan, problem = None, None
    if fields["fund"] and fields["snapshot"]:
        try:
            plan = FormulaFunding(request.app.state.ledger).preview_tranche(actor, **_command(fields))
        except LedgerError as error:
            problem = _problem(error, _language(request))
    return _render(request, "tranches.html", actor, db, "tranches", "", None, fields=fields,
                   plan=plan, problem=problem, xlsx=f"/dashboard/tranches/preview.xlsx?{urlencode(fields)}")


@router.get("/preview.xlsx")
def tranche_preview_xlsx(request: Request, actor: PageActor) -> Response:
    fields = _form_fields(request.query_params)
    try:
        plan = FormulaFunding(request.app.state.ledger).preview_tranche(actor, **_command(fields))
    except LedgerError as error:
        status = 403 if error.code == "role_not_allowed" else 409
        return Response(f"{error.code}: {error.detail}", status_code=status)
    name = f"tranche-{plan.fund}-{plan.semester}.xlsx"
    return Response(preview_xlsx(plan, _language(request)), media_type=export_files.XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def preview_xlsx(plan: TranchePlan, language: str) -> bytes:
    """Every line with every input (money in fen, as stored), then the totals."""
    from openpyxl import Workbook  # noqa: PLC0415  (only this download needs it)

    book = Workbook(write_only=True)
    sheet = book.create_sheet("tranche")
    semester = translate(plan.semester, language)
    sheet.append([f"{plan.fund} · {plan.snapshot_name} · {semester} × {plan.share}"])
    sheet.append(list(XLSX_COLUMNS))
    for line in plan.lines:
        row = [getattr(line, c) for c in XLSX_COLUMNS]
        row[XLSX_COLUMNS.index("teaching_points")] = " ".join(line.teaching_points)
        sheet.append(row)
    sheet.append([])
    sheet.append([translate("total", language), plan.total])
    sheet.append([translate("rounding_difference", language), str(plan.rounding_difference)])
    sheet.append([translate("available", language), plan.available])
    sheet.append([translate("shortfall", language), plan.shortfall])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@router.post("", response_class=HTMLResponse)
async def tranche_propose(request: Request, actor: PageActor, db: ViewsDb) -> Response:
    form = await request.form()
    fields = _form_fields(form)
    plan_token = str(form.get("plan", ""))[:4_000] or None
    service = FormulaFunding(request.app.state.ledger)
    try:
        outcome = await run_in_threadpool(lambda: service.propose_tranche(
            actor, **_command(fields), plan=plan_token))
    except LedgerError as error:
        problem = _problem(error, _language(request))
        # The page reads the views: in the pool, never on the event loop.
        return await run_in_threadpool(lambda: _render(
            request, "tranches.html", actor, db, "tranches", "", None, fields=fields, plan=None,
            problem=problem, xlsx=""))
    return RedirectResponse(f"/dashboard/tranches/{outcome.subject.id}", status_code=303)


@router.get("/{tranche_id}", response_class=HTMLResponse)
def tranche_page(request: Request, actor: PageActor,
                 db: ViewsDb, tranche_id: UUID, problem: str = "") -> Response:
    try:
        tranche = FormulaFunding(request.app.state.ledger).tranche(tranche_id)
    except LedgerError as error:
        return Response(error.detail, status_code=404)
    may_decide = (Role.APPROVER in actor.roles and tranche.status == "proposed"
                  and actor.user_id != tranche.proposed_by)
    return _render(request, "tranche.html", actor, db, "tranches", "", None, tranche=tranche,
                   may_decide=may_decide, problem=problem[:FIELD_LENGTH_MAX * 5])


@router.post("/{tranche_id}/{decision}")
async def tranche_decide(request: Request, actor: PageActor, tranche_id: UUID, decision: str) -> Response:
    form = await request.form()
    service = FormulaFunding(request.app.state.ledger)
    try:
        if decision == "approve":
            excluded: dict[str, str] = {}
            for line in str(form.get("exclude", "")).splitlines():
                school, _, reason = line.partition("=")
                if school.strip():
                    excluded[school.strip()] = reason.strip()
            await run_in_threadpool(lambda: service.approve_tranche(actor, tranche_id,
                                                                    exclude=excluded))
        elif decision == "reject":
            reason = str(form.get("reason", ""))
            await run_in_threadpool(lambda: service.reject_tranche(actor, tranche_id, reason=reason))
        else:
            return Response(status_code=404)
    except LedgerError as error:
        query = urlencode({"problem": _problem(error, _language(request))})
        return RedirectResponse(f"/dashboard/tranches/{tranche_id}?{query}", status_code=303)
    return RedirectResponse(f"/dashboard/tranches/{tranche_id}", status_code=303)
