"""The findings page and its download: the year's findings as of a day, by rule, with
their evidence (the reads behind it: api/dashboard/findings.py)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.dashboard import findings as dashboard_findings
from api.dashboard.i18n import (
    rule_name,
)
from api.dashboard.pages import (
    AsOf,
    ViewsDb,
    _auditor_or_refusal,
    _language,
    _page_context,
    _render,
)
from api.dashboard.rule_bases import rule_basis
from api.dashboard.rule_params import param_text
from api.routes import findings as findings_file
from projections import export_files
from projections.database import ViewDatabase
from projections.findings.cache import store_key
from projections.findings.registry import RULES, RULES_BY_NAME

router = APIRouter(prefix="/dashboard", include_in_schema=False)
FINDINGS_SHOWN_MAX = 300
EVIDENCE_SHOWN_MAX = 12  # positions a finding shows; the downloads list them all


def _findings(request: Request, db: ViewDatabase, fiscal_year: int, day: date | None
              ) -> dashboard_findings.FindingsAnswer:
    """The year's findings as of the day at the views' position: computed once, then cached."""
    settings = request.app.state.settings
    return dashboard_findings.CACHE.get(db, store_key(settings), request.app.state.ledger.name,
                                        fiscal_year, day or findings_file.default_as_of(fiscal_year))


@router.get("/findings", response_class=HTMLResponse)
def findings_page(request: Request, db: ViewsDb, as_of: AsOf = "", year: str | None = None,
                  rule: Annotated[str, Query(max_length=60)] = "") -> Response:
    actor = _auditor_or_refusal(request, db, "findings", as_of, year)
    if isinstance(actor, Response):
        return actor
    day, fiscal_year = _page_context(request, db, as_of, year)
    language = _language(request)
    answer = _findings(request, db, fiscal_year, day)
    counts = Counter(f.rule for f in answer.findings)
    chosen = rule if rule in RULES_BY_NAME else ""
    shown = [f for f in answer.findings if chosen in ("", f.rule)]
    rules = [{"name": r.name, "title": rule_name(r.name, language), "basis": rule_basis(r.name, language),
              "params": [param_text(k, v, language) for k, v in r.params.items()],
              "count": counts.get(r.name, 0)} for r in RULES]
    return _render(request, "findings.html", actor, db, "findings", as_of, year,
                   rows=dashboard_findings.describe(db, shown[:FINDINGS_SHOWN_MAX]),
                   total=len(shown), shown_max=FINDINGS_SHOWN_MAX, rules=rules, rule=chosen,
                   rule_titles={r["name"]: r["title"] for r in rules},
                   rule_bases={r["name"]: r["basis"] for r in rules},
                   answer=answer, day=day or findings_file.default_as_of(fiscal_year),
                   evidence_max=EVIDENCE_SHOWN_MAX)


@router.get("/findings/export")
def findings_export(request: Request, db: ViewsDb, as_of: AsOf = "", year: str | None = None,
                    rule: Annotated[str, Query(max_length=60)] = "",
                    output_format: Annotated[str, Query(alias="format")] = "csv") -> Response:
    """The findings the page lists, as the CLI's CSV or XLSX (`fundledger findings`)."""
    refusal = _auditor_or_refusal(request)
    if isinstance(refusal, Response):
        return refusal
    if output_format not in ("csv", "xlsx") or (rule and rule not in RULES_BY_NAME):
        return Response(status_code=404)
    day, fiscal_year = _page_context(request, db, as_of, year)
    found = [f for f in _findings(request, db, fiscal_year, day).findings
             if rule in ("", f.rule)]
    name = f"findings-{fiscal_year}-{(day or findings_file.default_as_of(fiscal_year)).isoformat()}" \
        f"{'-' + rule if rule else ''}.{output_format}"
    language = _language(request)
    if output_format == "xlsx":
        body, media = findings_file.xlsx_bytes(found, language), export_files.XLSX_MEDIA_TYPE
    else:
        body, media = findings_file.csv_bytes(found, language), export_files.CSV_MEDIA_TYPE
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
