"""The write path shared by every POST: idempotency keys, If-Match versions, the group commit,
and the answer's position and ETag."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Header, Request, Response
from starlette.concurrency import run_in_threadpool

from api.committer_client import CommitterClient
from api.problems import ApiProblem
from api.reads import asked_url
from domain.group_commit import GroupCommit
from domain.ledger import Outcome
from domain.limits import IDEMPOTENCY_KEY_LENGTH_MAX

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=IDEMPOTENCY_KEY_LENGTH_MAX,
           description="Same key and same body: the original answer, nothing written again. "
                       "Same key, different body: 422."),
]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", max_length=64,
           description="The aggregate's version (its ETag); a mismatch is 412."),
]


def expected_version(if_match: str | None) -> int | None:
    """`If-Match: "3"`, `W/"3"` or `3` → 3; `*` or no header → no check."""
    if if_match is None or if_match.strip() == "*":
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 18:
        msg = f"If-Match must be an aggregate version such as \"3\", not {if_match!r}"
        raise ApiProblem("invalid_header", msg)
    return int(text)


def etag(version: int) -> str:
    return f'"{version}"'


async def execute_async(request: Request, response: Response, command: Callable[[], Outcome], *,
                        created: bool = False) -> Outcome:
    """Runs a ledger command for the API's command routes and the dashboard's workplace forms,
    and marks the answer: 201 and `Location` for a creation, the ETag of the first subject, and
    whether it was a replay.

    Through the group commit or the committer process when the app has one (a command sent to
    the committer is a picklable callable — a bound method or a `functools.partial` of one, not
    a lambda): the event loop awaits it, instead of a pool thread waiting for it (a plain route
    crosses to the pool and back for the endpoint and again for its answer's validation).
    Without either, the command runs in the pool: it reads and writes the store. Either way it
    returns only once the write is durable."""
    group: GroupCommit | CommitterClient | None = request.app.state.group_commit
    outcome = (await group.submit_async(command) if group is not None
               else await run_in_threadpool(command))
    return _answered(request, response, outcome, created=created)


def _answered(request: Request, response: Response, outcome: Outcome, *, created: bool) -> Outcome:
    if created:
        response.status_code = 201
        # Schools and funds are addressed by their code, the rest by their id.
        name = getattr(outcome.subject, "code", None) or outcome.subject.id
        response.headers["Location"] = f"{asked_url(request).path.rstrip('/')}/{name}"
    response.headers["ETag"] = etag(outcome.subject.version)
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return outcome
