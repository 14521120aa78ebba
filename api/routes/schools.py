"""/v1/schools: register, list, read; reclassify, report enrolment, close; link a teaching
point to its parent school."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.auth import Ledger, Officer, Reader, require_school
from api.command_routes import command_route, of_subject
from api.commands import etag
from api.parameters import SchoolCode
from api.reads import After, Limit, MinPosition, views_at
from api.routes.pages import page_of
from api.schemas import Code, Command, IsoDate, Page, Text
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
from domain.limits import NAME_LENGTH_MAX

router = APIRouter(route_class=StrictJsonRoute, prefix="/v1/schools", tags=["schools"])


command_route(router, "", "register_school", role=Officer, body=RegisterSchool,
              answer=of_subject(school_public), response_model=SchoolPublic, created=True,
              doc="Register a school (officer).")


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
    return page_of(request, views, SchoolPublic, rows, cursor)


@router.get("/{code}", response_model=SchoolPublic)
def get_school(code: SchoolCode, actor: Reader, ledger: Ledger, response: Response) -> SchoolPublic:
    """One school as the books hold it now (read from its events, always current)."""
    require_school(actor, code)
    school = ledger.get_school(code)
    response.headers["ETag"] = etag(school.version)
    return school_public(school)


# The commands on one school, each checked against its version (If-Match).
for path, command, body, doc in (
        ("/{code}/reclassify", "reclassify_school", ReclassifySchool,
         "Change a school's locale (城区/镇区/乡村) from an effective date (officer)."),
        ("/{code}/enrolment", "report_enrolment", ReportEnrolment,
         "Report a school's enrolment as of a date (officer)."),
        ("/{code}/close", "close_school", CloseSchool, "Close a school (officer)."),
):
    command_route(router, path, command, role=Officer, subject=("code", SchoolCode), body=body,
                  versioned=True, answer=of_subject(school_public), response_model=SchoolPublic,
                  doc=doc)


class LinkParent(Command):
    parent: Code
    effective_date: IsoDate | None = None


command_route(router, "/{code}/parent", lambda ledger: FormulaFunding(ledger).link_parent,
              name="link_parent", role=Officer, subject=("code", SchoolCode), body=LinkParent,
              answer=of_subject(school_public), response_model=SchoolPublic,
              doc="Make a school a teaching point (教学点) budgeted inside its parent school "
                  "(officer).")
