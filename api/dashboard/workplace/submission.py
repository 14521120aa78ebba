"""One way every workplace form is submitted: the session and its CSRF token, the role, the
API's schema, the ledger command with the form's idempotency key, and the answer — written
(with its position) or the form again with its refusals, nothing written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.dashboard.workplace import context, forms
from api.problems import STATUS_BY_CODE
from api.schemas import Command
from domain.actors import Role
from domain.errors import LedgerError
from domain.ledger import FundLedger, Outcome
from projections.database import ViewDatabase

# (who, values, key, errors, problem, problem detail, status) → the form shown again
ShowAgain = Callable[[context.Worker, dict[str, Any], str, dict[str, str], str, str, int], Response]
Written = Callable[[context.Worker, Outcome, str], Response]
Run = Callable[[FundLedger, context.Worker, Any, str], Outcome]


@dataclass(frozen=True)
class FormRules:
    """How a form's text is typed, and which role may send it."""

    schema: type[Command]
    role: Role
    amounts: tuple[str, ...] = ()
    whole: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    lists: tuple[str, ...] = field(default=())


async def submit(request: Request, db: ViewDatabase, rules: FormRules, run: Run,
                 show_again: ShowAgain, written: Written,
                 unit: Callable[[Any], str] = lambda form: "CNY") -> Response:
    gated = await context.authorised_post(request, db, rules.role)
    if isinstance(gated, Response):
        return gated
    who, form = gated
    key = context.form_key(form) or context.new_key()
    # In the pool, as every page: a form's unit may read the books (its fund's), and the
    # answers read the views (api/dashboard/workplace/context.py).
    typed_in = await run_in_threadpool(unit, form)
    checked = forms.read_form(form, rules.schema, who.language, amounts=rules.amounts,
                              unit=typed_in, whole=rules.whole, flags=rules.flags,
                              lists=rules.lists)
    if checked.command is None:
        return await run_in_threadpool(show_again, who, checked.values, key, checked.errors,
                                       "", "", 422)
    ledger = request.app.state.ledger
    try:
        outcome = await context.run(request, lambda: run(ledger, who, checked.command, key))
    except LedgerError as error:
        problem = forms.refusal_of_books(error, checked, who.language)
        return await run_in_threadpool(show_again, who, checked.values, key, checked.errors,
                                       problem, error.detail_in(who.language),
                                       STATUS_BY_CODE.get(error.code, 409))
    return await run_in_threadpool(written, who, outcome, key)

