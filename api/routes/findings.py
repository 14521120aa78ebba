"""GET /v1/audit/findings?fiscal_year=&as_of=&rule= — the auditor's findings, as of any day."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from api.auth import Auditor
from api.problems import ApiProblem
from api.reads import views_at
from api.settings import Settings
from api.strict_json import StrictJsonRoute
from domain.ledger import bureau_today
from domain.limits import FISCAL_YEAR_MAX, FISCAL_YEAR_MIN
from projections.database import ViewDatabase
from projections.export_files import neutralised
from projections.findings.cache import FINDINGS, store_key
from projections.findings.registry import RULES, UnknownRule, rule_named
from projections.findings.rule import Finding

router = APIRouter(route_class=StrictJsonRoute, prefix="/v1/audit", tags=["audit"])

# The columns of a findings file: `fundledger findings --format csv|xlsx` and the dashboard's
# findings download write the same.
FILE_COLUMNS = (
    "rule",
    "fiscal_year",
    "key",
    "measure",
    "threshold",
    "amount_minor",
    "unit",
    "message",
    "evidence",
)


def file_rows(findings: list[Finding]) -> list[list[object]]:
    """One row a finding: its key as JSON, its evidence as space-separated positions."""
    return [
        [
            f.rule,
            f.fiscal_year,
            json.dumps(dict(f.key), ensure_ascii=False, sort_keys=True),
            f.measure,
            f.threshold,
            f.amount_minor,
            f.unit,
            f.message,
            " ".join(map(str, f.evidence)),
        ]
        for f in findings
    ]


def as_csv(findings: list[Finding]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FILE_COLUMNS)
    writer.writerows([[neutralised(v) for v in row] for row in file_rows(findings)])
    return buffer.getvalue()


def xlsx_bytes(findings: list[Finding]) -> bytes:
    """The findings as an XLSX workbook (one sheet, the CSV's columns), written in
    write-only mode: linear in the rows."""
    from openpyxl import Workbook  # noqa: PLC0415  (only this format needs it)
    from openpyxl.cell import WriteOnlyCell  # noqa: PLC0415

    book = Workbook(write_only=True)
    sheet = book.create_sheet("findings")
    sheet.append(FILE_COLUMNS)

    def cell(value: object) -> WriteOnlyCell:
        written = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            written.data_type = "s"  # text is text: never a formula
        return written

    for row in file_rows(findings):
        sheet.append([cell(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()




class FindingPublic(BaseModel):
    rule: str
    fiscal_year: int
    key: dict[str, Any]
    measure: float
    threshold: float
    message: str
    evidence: list[int]
    amount_minor: int | None
    unit: str | None
    message_zh: str = ""
    measure_unit: str = "count"  # days, share, ratio, count, flag, or a unit code (minor units)
    threshold_unit: str = "count"


class RulePublic(BaseModel):
    name: str
    title: str
    basis: str
    params: dict[str, Any]
    exactly_defined: bool


class FindingsPublic(BaseModel):
    fiscal_year: int
    as_of: date
    position: int
    count: int
    items: list[FindingPublic]
    rules: list[RulePublic]


def default_as_of(fiscal_year: int) -> date:
    """Findings are asked of the books as they stand: the year's end once it is over, today
    while it runs (a date in the future would count every open balance as stale)."""
    return min(bureau_today(), date(fiscal_year, 12, 31))


def findings_of_views(db: ViewDatabase, settings: Settings, ledger_name: str, fiscal_year: int,
                      as_of: date | None, rule: str | None = None) -> tuple[int, list[Finding]]:
    """The findings of what the views have applied, and that position: the rules count no
    event past it, so the answer is that of the position even while the runner moves on.
    The year's whole answer is computed once per (store, year, day, position) and kept
    (projections/findings/cache.py); one rule's findings are those of the whole answer."""
    if rule is not None:
        rule_named(rule)  # an unknown name is refused before anything is computed
    day = as_of or default_as_of(fiscal_year)
    answer = FINDINGS.get(db, store_key(settings), ledger_name, fiscal_year, day)
    return answer.position, [f for f in answer.findings if rule in (None, f.rule)]


@router.get("/findings", response_model=FindingsPublic)
def list_findings(
    request: Request,
    actor: Auditor,
    fiscal_year: Annotated[int, Query(ge=FISCAL_YEAR_MIN, le=FISCAL_YEAR_MAX)],
    as_of: date | None = None,
    rule: str | None = None,
    min_position: Annotated[int | None, Query(ge=0)] = None,
) -> FindingsPublic:
    """Audit findings of a fiscal year as of a business date (default: today, or the year's
    end once it is over), with evidence."""
    views_at(request, min_position)
    settings: Settings = request.app.state.settings
    db = ViewDatabase.open(settings)
    try:
        position, findings = findings_of_views(db, settings, request.app.state.ledger.name,
                                               fiscal_year, as_of, rule)
    except UnknownRule as error:
        raise ApiProblem("validation_error", str(error)) from None
    finally:
        db.close()
    return FindingsPublic(
        fiscal_year=fiscal_year, as_of=as_of or default_as_of(fiscal_year), position=position,
        count=len(findings), items=[FindingPublic(**f.as_dict()) for f in findings],
        rules=[RulePublic(name=r.name, title=r.title, basis=r.basis, params=dict(r.params),
                          exactly_defined=r.exactly_defined) for r in RULES if rule in (None, r.name)])
