"""One route per ledger command, made by `command_route`: most command routes only take a
subject from the path and a body, run the service's command through `execute_async` (idempotency
key, If-Match, the group commit) and shape the outcome. Writing each by hand repeated the
same eight lines a route; a route that does more than that stays a hand-written
(also `async`) function."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.auth import ledger_of
from api.commands import IdempotencyKey, IfMatch, execute_async, expected_version
from domain.ledger import FundLedger, Outcome

Parameter = inspect.Parameter
Answer = Callable[[Outcome], Any]
AnswerFromLedger = Callable[[Outcome, FundLedger], Any]


def of_subject(public: Callable[[Any, int], Any]) -> Answer:
    """The answer most commands give: their subject as the API shows it, at the write's position."""
    def answer(outcome: Outcome) -> Any:
        return public(outcome.subject, outcome.position)

    return answer


def command_route(router: APIRouter, path: str, command: str | Callable[[FundLedger], Any], *,
                  role: Any, body: type[BaseModel], response_model: Any, doc: str,
                  answer: Answer | None = None, answer_from_ledger: AnswerFromLedger | None = None,
                  subject: tuple[str, Any] | None = None,
                  versioned: bool = False, created: bool = False, status_code: int | None = None,
                  name: str | None = None, **fixed: Any) -> None:
    """Adds `POST path` to the router: `ledger.<command>(actor, [subject,] **body, **fixed,
    [expected_version,] idempotency_key)`. A command of a service over the ledger is given as
    `lambda ledger: Service(ledger).command`, with the route's `name`.

    The answer is `answer(outcome)`, built from the outcome alone on the event loop, or
    `answer_from_ledger(outcome, ledger)`, which reads the store and so is built in the
    thread pool (a store read must not stall the loop); exactly one is given.

    `subject` is the path parameter's name and annotation; `versioned` reads `If-Match`;
    `created` answers 201 with `Location`; `status_code` is the route's status otherwise. The
    route is named `name` (the command's name when absent) as a hand-written function of that
    name would be, so the OpenAPI document (operation ids, summaries) does not change."""

    if (answer is None) == (answer_from_ledger is None):
        raise TypeError(f"the route {path} needs one answer: answer or answer_from_ledger")

    # `async`: the event loop awaits the write (api.commands.execute_async) where a plain
    # route parked a pool thread on it, and crossed to the pool and back twice more (the
    # endpoint, then the answer's validation).
    async def handler(**given: Any) -> Any:
        ledger = ledger_of(given["request"])  # not a dependency: one fewer to solve a request
        run = getattr(ledger, command) if isinstance(command, str) else command(ledger)
        leading = (given["actor"], given[subject[0]]) if subject else (given["actor"],)
        version = {"expected_version": expected_version(given["if_match"])} if versioned else {}
        # A partial of the bound method, not a lambda: it travels to the committer process.
        outcome = await execute_async(given["request"], given["response"], partial(
            run, *leading, **given["body"].model_dump(), **fixed, **version,
            idempotency_key=given["idempotency_key"]), created=created)
        if answer is not None:
            return answer(outcome)
        return await run_in_threadpool(answer_from_ledger, outcome, ledger)

    parameters = [Parameter(subject[0], Parameter.KEYWORD_ONLY, annotation=subject[1])] if subject else []
    parameters += [Parameter(n, Parameter.KEYWORD_ONLY, annotation=a) for n, a in (
        ("body", body), ("actor", role), ("request", Request),
        ("response", Response))]
    parameters.append(Parameter("idempotency_key", Parameter.KEYWORD_ONLY, default=None,
                                annotation=IdempotencyKey))
    if versioned:
        parameters.append(Parameter("if_match", Parameter.KEYWORD_ONLY, default=None,
                                    annotation=IfMatch))
    handler.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    if name is None and not isinstance(command, str):
        raise TypeError(f"the route {path} runs a service's command: give it a name")
    handler.__name__ = handler.__qualname__ = name or str(command)
    handler.__doc__ = doc
    status = 201 if created else status_code
    router.post(path, response_model=response_model,
                **({} if status is None else {"status_code": status}))(handler)
