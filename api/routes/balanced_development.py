"""The balanced-development evaluation (优质均衡, 教督〔2017〕6号) and what feeds it: each
school's seven indicators (from the stocks the ledger holds and the reports it keeps), the
reports themselves (one at a time or a CSV), and the county report.

Figures are report figures derived from integer stocks (rounded here for reading); each one
comes with the integer stock and the pupils it was divided by, so it can be checked exactly.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, StrictInt

from api import problems
from api.auth import Ledger, Officer, Reader, visible_to
from api.commands import IdempotencyKey, execute_async
from api.indicator_import import import_reports
from api.parameters import AsOfToday as AsOf
from api.parameters import SchoolCode
from api.reads import MinPosition, queries_of, views_at
from api.schemas import Command, IsoDate
from api.stock_reads import school_stock_snapshot
from api.strict_json import StrictJsonRoute
from domain.balanced_development import (
    DEFINITIONS,
    CountyEvaluation,
    SchoolResult,
    StageEvaluation,
    evaluate_school,
    parts_of,
)
from domain.limits import NAME_LENGTH_MAX, STUDENTS_MAX
from projections.stock_queries import evaluate, latest_reports, school_stocks

router = APIRouter(route_class=StrictJsonRoute, tags=["resources: balanced development"])
Figure = Annotated[StrictInt, Field(ge=0, le=10_000_000)]
CSV_BYTES_MAX = 5_000_000


class ReportIndicators(Command):
    qualified_teachers: Figure
    key_teachers: Figure
    pe_arts_teachers: Figure
    teaching_area_m2: Figure
    sports_area_m2: Figure
    junior_pupils: Annotated[StrictInt, Field(ge=0, le=STUDENTS_MAX)] | None = None
    effective_date: IsoDate | None = Field(None, description="As of when the figures hold")


class ReportPublic(BaseModel):
    school: str
    reports: int
    as_of: date
    position: int


class IndicatorValue(BaseModel):
    indicator: str
    name_zh: str
    name_en: str
    unit: str
    value: float | None = Field(description="Per pupil or per 100 pupils; a report figure")
    stock: int | None = Field(description="The school's stock: teachers, m², fen or rooms")
    national: float
    met: bool | None
    above_85_percent: bool | None
    source: str = Field(description="ledger (a stock the books hold) or report")


class SchoolEvaluation(BaseModel):
    school: str
    name: str
    locale: str
    level: str
    stage: str
    pupils: int = Field(description="Pupils of this stage (the CV's weight)")
    school_pupils: int
    estimated_split: bool
    passes: bool | None
    reasons: list[str]
    indicators: list[IndicatorValue]


class IndicatorSpreadPublic(BaseModel):
    indicator: str
    name_zh: str
    schools: int
    pupils: int
    mean: float | None
    difference_coefficient: float | None
    threshold: float
    within_threshold: bool | None


class StagePublic(BaseModel):
    stage: str
    passes: bool | None
    cv_within: bool | None
    schools_pass: bool | None
    indicators: list[IndicatorSpreadPublic]
    schools: list[SchoolEvaluation]
    failing_schools: list[str]


class ExcludedPublic(BaseModel):
    school: str
    name: str
    reason: str


class CountyPublic(BaseModel):
    district: str
    passes: bool | None
    stages: list[StagePublic]
    excluded: list[ExcludedPublic]


class BalancedDevelopmentReport(BaseModel):
    as_of: date
    position: int
    basis: str
    counties: list[CountyPublic]


class SchoolIndicators(BaseModel):
    school: str
    as_of: date
    position: int
    reported_as_of: date | None
    reported_by: str | None
    evaluations: list[SchoolEvaluation]


BASIS = ("县域义务教育优质均衡发展督导评估办法 (教督〔2017〕6号): pupil-weighted CV of each "
         "indicator ≤ 0.50 primary / ≤ 0.45 junior; each school ≥ 6 of 7 at the national "
         "value and the rest ≥ 85 %")
_LEDGER_HELD = ("equipment_value", "multimedia_classrooms")


def _number(value: Fraction | Decimal | None, places: int = 4) -> float | None:
    if value is None:
        return None
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return float(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _school(result: SchoolResult) -> SchoolEvaluation:
    part = result.part
    indicators = []
    for r in result.indicators:
        d = DEFINITIONS[r.indicator]
        indicators.append(IndicatorValue(
            indicator=r.indicator.value, name_zh=d.name_zh, name_en=d.name_en,
            unit=d.value_unit_zh, value=_number(r.value), stock=part.school.stocks.get(r.indicator),
            national=float(r.national), met=r.met, above_85_percent=r.above_floor,
            source="ledger" if r.indicator.value in _LEDGER_HELD else "report"))
    return SchoolEvaluation(
        school=part.school.code, name=part.school.name, locale=part.school.locale,
        level=part.school.level, stage=part.stage.value, pupils=part.pupils,
        school_pupils=part.school.pupils, estimated_split=part.estimated_split,
        passes=result.passes, reasons=result.reasons, indicators=indicators)


def _stage(stage: StageEvaluation) -> StagePublic:
    return StagePublic(
        stage=stage.stage.value, passes=stage.passes, cv_within=stage.spreads_within,
        schools_pass=stage.schools_pass,
        indicators=[IndicatorSpreadPublic(
            indicator=s.indicator.value, name_zh=DEFINITIONS[s.indicator].name_zh,
            schools=s.schools, pupils=s.pupils, mean=_number(s.mean),
            difference_coefficient=_number(s.coefficient), threshold=float(s.threshold),
            within_threshold=s.within_threshold) for s in stage.spreads],
        schools=[_school(r) for r in stage.schools],
        failing_schools=[r.part.school.code for r in stage.schools if r.passes is not True])


def county_public(county: CountyEvaluation) -> CountyPublic:
    stages = [_stage(s) for s in county.stages]
    verdicts = [s.passes for s in stages]
    passes = (False if any(v is False for v in verdicts)
              else None if any(v is None for v in verdicts) or not stages else True)
    return CountyPublic(district=county.district, passes=passes, stages=stages,
                        excluded=[ExcludedPublic(school=e.code, name=e.name, reason=e.reason)
                                  for e in county.excluded])


def evaluation_report(views: Any, day: date, county: str | None) -> BalancedDevelopmentReport:
    db = views.stocks_db()
    with db.snapshot():
        position = views.position()
        counties = evaluate(db, day, county)
    return BalancedDevelopmentReport(as_of=day, position=position, basis=BASIS,
                                     counties=[county_public(c) for c in counties])


@router.get("/v1/reports/balanced-development", response_model=BalancedDevelopmentReport)
def balanced_development(
    actor: Reader, request: Request, as_of: AsOf = None, min_position: MinPosition = None,
    county: Annotated[str | None, Query(min_length=1, max_length=NAME_LENGTH_MAX,
                                        description="A county-level unit; all when absent")] = None,
) -> BalancedDevelopmentReport:
    """Per county-level unit and stage: each indicator's CV against its threshold, each
    school's pass under the 6-of-7 rule, and why the failing ones fail."""
    views = views_at(request, min_position) if min_position else queries_of(request)
    report = evaluation_report(views, as_of or request.app.state.ledger.today(), county)
    for found in report.counties:  # a scoped token reads its schools' rows only
        found.excluded = visible_to(actor, found.excluded, lambda e: e.school)
        for stage in found.stages:
            stage.schools = visible_to(actor, stage.schools, lambda s: s.school)
            stage.failing_schools = visible_to(actor, stage.failing_schools, lambda s: s)
    return report


@router.get("/v1/schools/{code}/indicators", response_model=SchoolIndicators)
def school_indicators(code: SchoolCode, actor: Reader, request: Request, as_of: AsOf = None,
                      min_position: MinPosition = None) -> SchoolIndicators:
    """A school's seven indicators as of a day, each against its national value."""
    with school_stock_snapshot(request, actor, code, as_of, min_position) as (
            _, day, position, db):
        stocks = school_stocks(db, day, school=code).get(code)
        report = latest_reports(db, day, school=code).get(code)
    parts = parts_of(stocks) if stocks is not None else []
    evaluations = [_school(evaluate_school(p)) for p in parts] if isinstance(parts, list) else []
    return SchoolIndicators(school=code, as_of=day, position=position,
                            reported_as_of=report.as_of if report else None,
                            reported_by=report.reported_by if report else None,
                            evaluations=evaluations)


@router.post("/v1/schools/{code}/indicator-reports", status_code=201, response_model=ReportPublic)
async def report(code: SchoolCode, body: ReportIndicators, actor: Officer, ledger: Ledger,
                 request: Request, response: Response,
                 idempotency_key: IdempotencyKey = None) -> ReportPublic:
    """Report the figures the ledger does not hold (officer): teachers and floor areas."""
    fields = body.model_dump()
    junior, day = fields.pop("junior_pupils"), fields.pop("effective_date")
    outcome = await execute_async(request, response, partial(
        ledger.report_indicators, actor, code, figures=fields, junior_pupils=junior, effective_date=day,
        idempotency_key=idempotency_key), created=True)
    reports = outcome.subject
    return ReportPublic(school=reports.school, reports=reports.reports,
                        as_of=reports.last_as_of, position=outcome.position)


@router.post("/v1/indicator-reports/import", status_code=201,
             openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}})
async def import_csv(request: Request, actor: Officer,
                     idempotency_key: IdempotencyKey = None) -> Any:
    """Import indicator reports from a CSV (officer): all rows or none; bad rows by line."""
    data = await request.body()
    if len(data) > CSV_BYTES_MAX:
        return problems.api_problem("body_too_large", f"the file may be at most {CSV_BYTES_MAX} bytes")
    result = await run_in_threadpool(import_reports, request.app.state.ledger, actor, data,
                                     idempotency_key)
    if result.errors:
        first = result.errors[0]
        return problems.problem(
            422, "import_rejected", "The file was refused; nothing was written",
            f"{len(result.errors)} rows are refused; first at line {first.line}: {first.detail}",
            errors=[vars(e) for e in result.errors])
    return {"rows": result.rows, "position": result.position}
