"""Bureaus and what a supervisor reads of them (issue 15):
GET /v1/bureaus · GET /v1/bureaus/{bureau} · GET /v1/bureaus/{bureau}/reports/consolidated ·
GET /v1/bureaus/{bureau}/reports/findings · POST /v1/schools/{code}/move (refused).

`api.bureau_books.BureauScope` has resolved the bureau (404 when unknown) and
`api.bureau_access` decided what the token may see of it before any of these run.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from api.auth import Auditor, Officer, Reader
from api.commands import IdempotencyKey
from api.consolidated import consolidate
from api.problems import ApiProblem
from api.routes.balances import AsOf, CurrentYearQuery
from api.routes.findings import FindingPublic, findings_of_views
from api.routes.schools import SchoolCode
from api.store import bureau_settings
from api.strict_json import StrictJsonRoute
from domain.bureau_registry import BUREAU_CODE_LENGTH_MAX, BureauInfo
from domain.errors import SchoolMoveRefused
from domain.limits import CODE_LENGTH_MAX
from projections.database import ViewDatabase
from projections.findings.registry import UnknownRule

router = APIRouter(route_class=StrictJsonRoute, tags=["bureaus"])
moves = APIRouter(route_class=StrictJsonRoute, tags=["schools"])

# Resolved before the route runs (api/bureau_books.py: 404 when unknown); declared here so the
# document names it.
BureauPath = Annotated[str, Path(min_length=1, max_length=BUREAU_CODE_LENGTH_MAX,
                                 description="A bureau's code, e.g. XZ-TS")]
ChildQuery = Annotated[str | None, Query(min_length=1, max_length=BUREAU_CODE_LENGTH_MAX,
                                         description="Only this child bureau")]


class BureauPublic(BaseModel):
    code: str
    name: str
    level: str
    parent: str | None
    children: list[str]
    keeps_books: bool


class BureauList(BaseModel):
    items: list[BureauPublic]


class ChildPublic(BaseModel):
    bureau: str
    name: str
    position: int
    allocated: int
    spent: int
    students: int
    per_student_allocated: int | None
    rural_to_urban_per_student_ratio: float | None
    read_seconds: float


class ConsolidatedReport(BaseModel):
    bureau: str
    name: str
    level: str
    fiscal_year: int
    as_of: date | None
    children: list[ChildPublic]
    by_locale: list[dict[str, Any]]
    by_category_source: list[dict[str, Any]]
    counties: list[dict[str, Any]]
    totals: dict[str, Any]


class ChildFinding(FindingPublic):
    bureau: str


class ChildFindings(BaseModel):
    bureau: str
    fiscal_year: int
    as_of: date | None
    positions: dict[str, int]
    count: int
    items: list[ChildFinding]


def _books(request: Request) -> Any:
    return request.app.state.bureaus


def _public(books: Any, info: BureauInfo) -> BureauPublic:
    children = [c.code for c in books.directory().children(info.code)]
    return BureauPublic(code=info.code, name=info.name, level=info.level.value,
                        parent=info.parent, children=children, keeps_books=info.level.keeps_books)


def _book_keepers(request: Request, child: str | None) -> tuple[BureauInfo, list[BureauInfo]]:
    """This request's bureau and the county-level bureaus it reads (only `child`, if given:
    one of them, else 404 as for any bureau the token may not see)."""
    books = _books(request)
    info = books.info(request.app.state.bureau)
    keepers = (books.directory().book_keepers_under(info.code) if info.code in books.directory()
               else [info])
    if child is not None:
        keepers = [k for k in keepers if k.code == child]
        if not keepers:
            raise ApiProblem("bureau_not_found", f"bureau {child} not found")
    return info, keepers


@router.get("/v1/bureaus", response_model=BureauList)
def list_bureaus(_: Reader, request: Request) -> BureauList:
    """The caller's own bureau and every bureau below it."""
    books = _books(request)
    own = books.info(request.app.state.bureau)
    below = [b for b in books.directory() if books.supervises(own.code, b.code)]
    return BureauList(items=[_public(books, b) for b in [own, *below]])


@router.get("/v1/bureaus/{bureau}", response_model=BureauPublic)
def get_bureau(bureau: BureauPath, _: Reader, request: Request) -> BureauPublic:
    """One bureau: its name, level, parent and children."""
    books = _books(request)
    return _public(books, books.info(request.app.state.bureau))


@router.get("/v1/bureaus/{bureau}/reports/consolidated", response_model=ConsolidatedReport)
def consolidated_report(
    bureau: BureauPath, _: Reader, request: Request, fiscal_year: CurrentYearQuery = None,
    as_of: AsOf = None, child: ChildQuery = None,
    evaluation: Annotated[bool, Query(description="With each county's balanced-development "
                                      "coefficients (most of the report's time)")] = True,
) -> ConsolidatedReport:
    """Per child bureau, locale, category and source: allocated, spent, per-pupil and the
    rural/urban ratio, with each county's balanced-development coefficients side by side, as
    of a day; each child's position read is stated. Read from each child's own views."""
    year = fiscal_year or request.app.state.ledger.today().year
    info, keepers = _book_keepers(request, child)
    books = _books(request)
    report = consolidate(books.settings, info, keepers, year, as_of, evaluation=evaluation,
                         kept=books.child_reports)
    return ConsolidatedReport.model_validate(report, from_attributes=True)


@router.get("/v1/bureaus/{bureau}/reports/findings", response_model=ChildFindings)
def children_findings(
    bureau: BureauPath, _: Auditor, request: Request,
    fiscal_year: Annotated[int, Query(ge=2000, le=2100)],
    as_of: AsOf = None, child: ChildQuery = None,
    rule: Annotated[str | None, Query(min_length=1, max_length=CODE_LENGTH_MAX)] = None,
) -> ChildFindings:
    """Every child bureau's audit findings of a year as of a day, filterable by child and
    rule, each naming its bureau; the position each child's findings were read at."""
    _, keepers = _book_keepers(request, child)
    books = _books(request)
    positions: dict[str, int] = {}
    items: list[ChildFinding] = []
    for keeper in keepers:
        settings = bureau_settings(books.settings, keeper.code)
        db = ViewDatabase.open(settings)
        try:
            position, found = findings_of_views(db, settings, "FundLedger", fiscal_year, as_of, rule)
        except UnknownRule as error:
            raise ApiProblem("validation_error", str(error)) from None
        finally:
            db.close()
        positions[keeper.code] = position
        items += [ChildFinding(bureau=keeper.code, **f.as_dict()) for f in found]
    return ChildFindings(bureau=request.app.state.bureau, fiscal_year=fiscal_year, as_of=as_of,
                         positions=positions, count=len(items), items=items)


@moves.post("/v1/schools/{code}/move", status_code=409)
def move_school(code: SchoolCode, _: Officer, request: Request,
                _key: IdempotencyKey = None) -> None:
    """Refused, always: a school's books stay with the bureau that registered it. To hand a
    school to another bureau, close it here (its history stays readable here) and register
    it there under that bureau's code (docs/architecture.md, bureaus)."""
    request.app.state.ledger.get_school(code)  # 404 for an unknown school
    msg = (f"school {code} stays in bureau {request.app.state.bureau}: a school is not moved "
           "between bureaus, because its allocations, spending and hash chain are this "
           "bureau's books; close it here and register it in the other bureau under a new code")
    raise SchoolMoveRefused(msg)
