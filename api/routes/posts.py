"""Teacher posts (编制) as a standing quota: the county total, each school's approved and
filled posts, and rotations between schools (two-person). Reads are as of any day."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field, StrictInt, StrictStr
from starlette.concurrency import run_in_threadpool

from api.auth import Approver, Ledger, Officer, Reader, require_unscoped, visible_to
from api.command_routes import command_route, of_subject
from api.commands import IdempotencyKey, execute_async
from api.parameters import AsOfToday as AsOf
from api.parameters import SchoolCode
from api.reads import MinPosition, queries_of, views_at
from api.schemas import Code, Command, Decision, IsoDate, OptionalReason, Reason
from api.stock_reads import school_stock_snapshot
from api.strict_json import StrictJsonRoute
from domain.ledger import FundLedger, Outcome
from domain.limits import NAME_LENGTH_MAX
from domain.post_commands import DOCUMENT_LENGTH_MAX, POSTS_MAX
from domain.stock_errors import MoveNotFound
from projections.stock_queries import county_posts, school_posts

router = APIRouter(route_class=StrictJsonRoute, tags=["resources: teacher posts"])
District = Annotated[str, Path(min_length=1, max_length=NAME_LENGTH_MAX)]
Posts = Annotated[StrictInt, Field(ge=0, le=POSTS_MAX)]
Count = Annotated[StrictInt, Field(ge=1, le=POSTS_MAX)]


class ApproveTotal(Command):
    total: Posts
    document: Annotated[StrictStr, Field(min_length=1, max_length=DOCUMENT_LENGTH_MAX,
                                         description="The staffing office's document number")]
    effective_date: IsoDate | None = None


class DistributePosts(Command):
    posts: Posts
    reason: OptionalReason = ""
    effective_date: IsoDate | None = None


class StaffChange(Command):
    count: Count
    reason: OptionalReason = ""
    effective_date: IsoDate | None = None


class ProposeMove(Command):
    from_school: Code
    to_school: Code
    count: Count
    reason: Reason
    effective_date: IsoDate | None = None


class DecideMove(Decision):
    pass


class SchoolPostsPublic(BaseModel):
    school: str
    approved: int
    filled: int
    vacant: int


class CountyPostsPublic(BaseModel):
    district: str
    as_of: date
    position: int
    total: int
    distributed: int
    undistributed: int
    filled: int
    vacant: int
    schools: list[SchoolPostsPublic]


class SchoolPostsAnswer(SchoolPostsPublic):
    district: str
    as_of: date
    position: int


class PendingChange(BaseModel):
    """The two-person answer (agreement 3): nothing moved yet."""

    change: UUID
    status: Literal["pending", "approved", "rejected"]
    kind: Literal["post_move"] = "post_move"
    maker: str
    checker: str | None = None
    district: str
    from_school: str
    to_school: str
    count: int
    effective_date: date
    position: int | None = None


def _county_answer(request: Request, district: str, as_of: date | None,
                   min_position: int | None = None) -> CountyPostsPublic:
    views = views_at(request, min_position) if min_position else queries_of(request)
    day = as_of or request.app.state.ledger.today()
    db = views.stocks_db()
    with db.snapshot():
        position = views.position()
        found = county_posts(db, district, day)
    return CountyPostsPublic(
        district=found.district, as_of=day, position=position, total=found.total,
        distributed=found.distributed, undistributed=found.undistributed, filled=found.filled,
        vacant=found.vacant, schools=[SchoolPostsPublic(**vars(s)) for s in found.schools])


def _now(ledger: Any, district: str, position: int) -> CountyPostsPublic:
    """The county as the command left it (read from its events, not the views)."""
    posts = ledger.get_county_posts(district)
    schools = [SchoolPostsPublic(school=code, approved=approved, filled=posts.filled.get(code, 0),
                                 vacant=posts.vacant(code))
               for code, approved in sorted(posts.approved.items())]
    return CountyPostsPublic(district=district, as_of=posts.last_day or ledger.today(),
                             position=position, total=posts.total, distributed=posts.distributed,
                             undistributed=posts.total - posts.distributed,
                             filled=sum(s.filled for s in schools),
                             vacant=sum(s.vacant for s in schools), schools=schools)


@router.post("/v1/staffing/{district}/total", response_model=CountyPostsPublic)
async def approve_total(district: District, body: ApproveTotal, actor: Officer, ledger: Ledger,
                        request: Request, response: Response,
                        idempotency_key: IdempotencyKey = None) -> CountyPostsPublic:
    """Record the staffing office's approved total of posts for a county-level unit (officer)."""
    outcome = await execute_async(request, response, partial(
        ledger.approve_post_total, actor, district, **body.model_dump(), idempotency_key=idempotency_key))
    return await run_in_threadpool(_now, ledger, district, outcome.position)


@router.get("/v1/staffing/{district}", response_model=CountyPostsPublic)
def get_county_posts(district: District, actor: Reader, request: Request, as_of: AsOf = None,
                     min_position: MinPosition = None) -> CountyPostsPublic:
    """The county's total, distributed, filled and vacant posts, per school, as of a day."""
    answer = _county_answer(request, district, as_of, min_position)
    answer.schools = visible_to(actor, answer.schools, lambda s: s.school)
    return answer


def _school_now(outcome: Outcome, ledger: FundLedger) -> CountyPostsPublic:
    return _now(ledger, outcome.subject.district, outcome.position)


# What changes one school's posts: answered with its county as the command left it.
for path, command, body, doc in (
        ("/v1/schools/{code}/posts", "distribute_posts", DistributePosts,
         "Set a school's approved posts (核定编制) within the county total; over the total is 409."),
        ("/v1/schools/{code}/hires", "record_hires", StaffChange,
         "Fill vacant posts of a school (officer)."),
        ("/v1/schools/{code}/departures", "record_departures", StaffChange,
         "Vacate filled posts of a school (officer)."),
):
    command_route(router, path, command, role=Officer, subject=("code", SchoolCode), body=body,
                  answer_from_ledger=_school_now, response_model=CountyPostsPublic, doc=doc)


@router.get("/v1/schools/{code}/posts", response_model=SchoolPostsAnswer)
def get_school_posts(code: SchoolCode, actor: Reader, request: Request, as_of: AsOf = None,
                     min_position: MinPosition = None) -> SchoolPostsAnswer:
    """A school's approved, filled and vacant posts as of a day."""
    with school_stock_snapshot(request, actor, code, as_of, min_position) as (
            school, day, position, db):
        found = school_posts(db, code, day)
    return SchoolPostsAnswer(**vars(found), district=school.district, as_of=day,
                             position=position)


def _change(move: Any, position: int | None) -> PendingChange:
    return PendingChange(change=move.id, status=move.status, maker=move.maker,
                         checker=move.checker, district=move.district,
                         from_school=move.from_school, to_school=move.to_school,
                         count=move.count, effective_date=move.effective_date, position=position)


# The doc's line break is the one the hand-written route's docstring had: the OpenAPI
# description stays the same.
command_route(router, "/v1/post-moves", "propose_post_move", name="propose_move", role=Officer,
              body=ProposeMove, answer=of_subject(_change), response_model=PendingChange,
              status_code=202, doc="Propose a rotation (交流轮岗) of filled posts between two "
                                   "schools of one county: 202\nwith a pending change; nothing "
                                   "moves until another person approves it.")


@router.get("/v1/post-moves/{move_id}", response_model=PendingChange)
def get_move(move_id: UUID, actor: Reader, ledger: Ledger) -> PendingChange:
    require_unscoped(actor, MoveNotFound, f"post move {move_id}")
    return _change(ledger.get_post_move(move_id), None)


for approve, doc in (
        (True, "Approve a proposed move (approver, not its proposer): the posts move at once, as "
               "one pair of events saved with the approval."),
        (False, "Reject a proposed move (approver, not its proposer); a reason is required."),
):
    verb = "approve" if approve else "reject"
    command_route(router, f"/v1/post-moves/{{move_id}}/{verb}", "decide_post_move",
                  name=f"{verb}_move", role=Approver, subject=("move_id", UUID), body=DecideMove,
                  answer=of_subject(_change), response_model=PendingChange, approve=approve,
                  doc=doc)
