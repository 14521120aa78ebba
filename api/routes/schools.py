"""/v1/schools: register, list, read; reclassify, report enrolment, close; link a teaching
point to its parent school."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from api.auth import Ledger, Officer, Reader, require_school
from api.commands import IdempotencyKey, IfMatch, etag, execute, expected_version
from api.reads import After, Limit, MinPosition, next_link, row_dict, views_at
from api.schemas import CODE_PATTERN, Code, Command, IsoDate, Page, Text
from api.schemas.schools import (
    CloseSchool,
    ReclassifySchool,
    RegisterSchool,
    ReportEnrolment,
    SchoolPublic,
    school_public,
)
from api.strict_json import StrictJsonRoute
from domain.classification import Level, Locale
from domain.formula_funding import FormulaFunding
from domain.limits import CODE_LENGTH_MAX, NAME_LENGTH_MAX

router = APIRouter(route_class=StrictJsonRoute, prefix="/v1/schools", tags=["schools"])
SchoolCode = Annotated[str, Path(max_length=CODE_LENGTH_MAX, pattern=CODE_PATTERN)]


@router.post("", status_code=201, response_model=SchoolPublic)
def register_school(body: RegisterSchool, actor: Officer, ledger: Ledger, request: Request,
                    response: Response, idempotency_key: IdempotencyKey = None) -> SchoolPublic:
    """Register a school (officer)."""
    outcome = execute(request, response, lambda: ledger.register_school(
        actor, **body.model_dump(), idempotency_key=idempotency_key), created=True)
    return school_public(outcome.subject, outcome.position)


@router.get("", response_model=Page[SchoolPublic])
def list_schools(
    actor: Reader, request: Request, limit: Limit = 100, after: After = None,
    district: Annotated[Text | None, Query(max_length=NAME_LENGTH_MAX)] = None,
    locale: Locale | None = None, level: Level | None = None, min_position: MinPosition = None,
) -> Page[SchoolPublic]:
    """Schools, filtered by district, locale and level, in pages."""
    views = views_at(request, min_position)
    rows, cursor = views.list_schools(district=district, locale=locale and locale.value,
                                      level=level and level.value, after=after, limit=limit,
                                      schools=actor.schools)
    return Page[SchoolPublic](items=[SchoolPublic.model_validate(row_dict(r)) for r in rows],
                              next=next_link(request, cursor), position=views.position())


@router.get("/{code}", response_model=SchoolPublic)
def get_school(code: SchoolCode, actor: Reader, ledger: Ledger, response: Response) -> SchoolPublic:
    """One school as the books hold it now (read from its events, always current)."""
    require_school(actor, code)
    school = ledger.get_school(code)
    response.headers["ETag"] = etag(school.version)
    return school_public(school)


@router.post("/{code}/reclassify", response_model=SchoolPublic)
def reclassify_school(code: SchoolCode, body: ReclassifySchool, actor: Officer, ledger: Ledger,
                      request: Request, response: Response,
                      idempotency_key: IdempotencyKey = None,
                      if_match: IfMatch = None) -> SchoolPublic:
    """Change a school's locale (城区/镇区/乡村) from an effective date (officer)."""
    version = expected_version(if_match)
    outcome = execute(request, response, lambda: ledger.reclassify_school(
        actor, code, **body.model_dump(), expected_version=version,
        idempotency_key=idempotency_key))
    return school_public(outcome.subject, outcome.position)


@router.post("/{code}/enrolment", response_model=SchoolPublic)
def report_enrolment(code: SchoolCode, body: ReportEnrolment, actor: Officer, ledger: Ledger,
                     request: Request, response: Response,
                     idempotency_key: IdempotencyKey = None,
                     if_match: IfMatch = None) -> SchoolPublic:
    """Report a school's enrolment as of a date (officer)."""
    version = expected_version(if_match)
    outcome = execute(request, response, lambda: ledger.report_enrolment(
        actor, code, **body.model_dump(), expected_version=version,
        idempotency_key=idempotency_key))
    return school_public(outcome.subject, outcome.position)


@router.post("/{code}/close", response_model=SchoolPublic)
def close_school(code: SchoolCode, body: CloseSchool, actor: Officer, ledger: Ledger,
                 request: Request, response: Response, idempotency_key: IdempotencyKey = None,
                 if_match: IfMatch = None) -> SchoolPublic:
    """Close a school (officer)."""
    version = expected_version(if_match)
    outcome = execute(request, response, lambda: ledger.close_school(
        actor, code, **body.model_dump(), expected_version=version,
        idempotency_key=idempotency_key))
    return school_public(outcome.subject, outcome.position)



class LinkParent(Command):
    parent: Code
    effective_date: IsoDate | None = None


@router.post("/{code}/parent", response_model=SchoolPublic)
def link_parent(code: SchoolCode, body: LinkParent, actor: Officer, ledger: Ledger,
                request: Request, response: Response,
                idempotency_key: IdempotencyKey = None) -> SchoolPublic:
    """Make a school a teaching point (教学点) budgeted inside its parent school (officer)."""
    outcome = execute(request, response, lambda: FormulaFunding(ledger).link_parent(
        actor, code, **body.model_dump(), idempotency_key=idempotency_key))
    return school_public(outcome.subject, outcome.position)
