"""GET /v1/audit/findings?fiscal_year=&as_of=&rule= — the auditor's findings, as of any day."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from api.auth import Auditor
from api.dashboard.i18n import rule_name
from api.problems import ApiProblem
from api.reads import views_at
from api.settings import Settings
from api.strict_json import StrictJsonRoute
from domain.ledger import bureau_today
from domain.limits import FISCAL_YEAR_MAX, FISCAL_YEAR_MIN
from projections.database import ViewDatabase
from projections.export_files import Column, Sheet, to_csv, to_xlsx
from projections.findings.cache import FINDINGS, store_key
from projections.findings.registry import RULES, UnknownRule, rule_named
from projections.findings.rule import Finding

router = APIRouter(route_class=StrictJsonRoute, prefix="/v1/audit", tags=["audit"])

# The columns of a findings file: `fundledger findings --format csv|xlsx` and the dashboard's
# findings download write the same, through the exports' writers (projections/export_files.py):
# bilingual titles, values in the reader's language, `amount_minor` exact beside its yuan, text
# defused as every export's is. The rule's code stays a code; its name is the reader's.
FILE_COLUMNS = [
    Column("rule", "规则 rule"),
    Column("rule_name", "规则名称 rule_name"),
    Column("fiscal_year", "财年 fiscal_year"),
    Column("key", "对象 key"),
    Column("measure", "度量 measure"),
    Column("threshold", "阈值 threshold"),
    Column("amount", "金额 amount", money=True),
    Column("unit", "单位 unit"),
    Column("message", "说明 message"),
    Column("evidence", "证据 evidence"),
]


def file_sheet(findings: list[Finding], language: str) -> Sheet:
    """One row a finding: its key as JSON, its evidence as space-separated positions."""
    return Sheet("findings", FILE_COLUMNS, [
        {
            "rule": f.rule,
            "rule_name": rule_name(f.rule, language),
            "fiscal_year": f.fiscal_year,
            "key": json.dumps(dict(f.key), ensure_ascii=False, sort_keys=True),
            "measure": f.measure,
            "threshold": f.threshold,
            "amount": f.amount_minor,
            "unit": f.unit,
            "message": message_in(f, language),
            "evidence": " ".join(map(str, f.evidence)),
        }
        for f in findings
    ])


def message_in(finding: Finding, language: str) -> str:
    """The finding's explanation in the language (a rule with no Chinese sentence: its English)."""
    return finding.message_zh if language == "zh" and finding.message_zh else finding.message


def csv_bytes(findings: list[Finding], language: str = "en") -> bytes:
    """The findings as CSV: UTF-8 with a byte-order mark, so that Excel reads the Chinese."""
    return to_csv(file_sheet(findings, language), language)


def xlsx_bytes(findings: list[Finding], language: str = "en") -> bytes:
    """The findings as an XLSX workbook (one sheet, the CSV's columns)."""
    return to_xlsx([file_sheet(findings, language)], language)


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
