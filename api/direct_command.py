"""The busiest write, `POST /v1/expenditures`, answered with its parameters read directly
(issue 21, "latency of one write").

FastAPI solves a route's parameters anew on every request: each dependency's cache key, its
query, header, cookie and path parameters, the body's field, then validates the answer again
(`solve_dependencies`, ~40 % of the event loop's CPU for a write in `one_write_cpu`'s profile).
`DirectCommand` stands first among the app's routes and answers the request that needs none of
that generality: a JSON body the route's model accepts, a bearer token whose user holds the
route's role, at most an `Idempotency-Key` of a valid length, no query string. It calls the
route's own endpoint (api.command_routes: the same command, the same answer, the same headers)
and writes the answer with the route's own response field, so the answer is FastAPI's, byte for
byte (tests/api/test_direct_command.py compares them).

Every other request is handed on, body and all, to FastAPI's route, which answers it as it
always has: no token or an unknown one (401 before anything else), a missing role (403), a body
that does not parse, names a key twice or does not validate, another content type, a query
string. Nothing has been written when a request is handed on: the command runs only after every
check above has passed, and its own refusals (a closed period, too little money) are raised
from the route's endpoint exactly as FastAPI would raise them.
"""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import ResponseValidationError
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match
from starlette.types import Message, Receive, Scope, Send

from api.auth import actor_from_header
from api.problems import ApiProblem, roles_required
from api.strict_json import loads_strict
from domain.errors import LedgerError
from domain.limits import IDEMPOTENCY_KEY_LENGTH_MAX

# Set on a request handed on to FastAPI's routes: this route no longer matches it.
HANDED_ON = "fundledger.handed_on"
# The parameters of a command route with no subject in its path and no If-Match
# (api.command_routes.command_route): what `DirectCommand` knows how to give.
PARAMETERS = ("body", "actor", "request", "response", "idempotency_key")


class DirectCommand(BaseRoute):
    """`route` (an API route made by `command_route`) answered without FastAPI's parameter
    solving when the request is the common case; `router` answers every other."""

    def __init__(self, route: APIRoute, router: Any) -> None:
        parameters = inspect.signature(route.endpoint).parameters
        if (tuple(parameters) != PARAMETERS or route.response_field is None
                or route.body_field is None):
            msg = f"{route.path} is not a plain command route: {tuple(parameters)}"
            raise TypeError(msg)
        roles = roles_required(route.dependant)
        if roles is None:
            msg = f"{route.path} names no role"
            raise TypeError(msg)
        self.route = route
        self.router = router
        self.roles = roles
        self.body_field = route.body_field
        self.methods = route.methods or set()
        self.answered = 0  # requests answered here, not handed on (read by the tests)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if (scope["type"] == "http" and scope.get("method") in self.methods
                and scope.get("path") == self.route.path and not scope.get("root_path")
                and not scope.get(HANDED_ON)):
            return Match.FULL, {"endpoint": self.route.endpoint, "route": self.route,
                                "path_params": {}}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        body = await request.body()
        answer = await self._answer(request, body)
        if answer is None:
            await self._hand_on(scope, body, receive, send)
            return
        self.answered += 1
        await answer(scope, receive, send)

    async def _answer(self, request: Request, body: bytes) -> Response | None:
        """The answer of the common case, or None: not the common case, nothing done."""
        headers = request.headers
        keys = headers.getlist("idempotency-key")
        content_type = headers.get("content-type", "").partition(";")[0].strip().lower()
        if (request.scope.get("query_string") or len(keys) > 1
                or (keys and not 1 <= len(keys[0]) <= IDEMPOTENCY_KEY_LENGTH_MAX)
                or content_type != "application/json"):
            return None
        try:
            actor = await actor_from_header(request)
            parsed = loads_strict(body)
        except (LedgerError, ApiProblem, ValueError):
            return None  # FastAPI's route answers it with the refusal it has always given
        # As FastAPI validates a body: the route's own field, the parsed JSON.
        given, errors = self.body_field.validate(parsed, {}, loc=("body",))
        if errors or not actor.roles & self.roles:
            return None
        response = Response()  # what FastAPI hands an endpoint's `response` parameter
        del response.headers["content-length"]
        response.status_code = None  # type: ignore[assignment]
        value = await self.route.endpoint(body=given, actor=actor, request=request,
                                          response=response,
                                          idempotency_key=keys[0] if keys else None)
        field = self.route.response_field
        assert field is not None
        checked, errors = field.validate(value, {}, loc=("response",))
        if errors:
            raise ResponseValidationError(errors=errors, body=value)
        answer = Response(content=field.serialize_json(checked, by_alias=True),
                          media_type="application/json",
                          status_code=response.status_code or self.route.status_code or 200)
        answer.headers.raw.extend(response.headers.raw)
        return answer

    async def _hand_on(self, scope: Scope, body: bytes, receive: Receive, send: Send) -> None:
        """FastAPI's routes answer the request, reading the body this route has read."""
        delivered = False

        async def body_again() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        scope[HANDED_ON] = True
        await self.router.app(scope, body_again, send)


def direct_command(app: Any, router: Any, method: str, path: str) -> DirectCommand:
    """Puts a `DirectCommand` for `method path` of `router` first among `app`'s routes."""
    route = next(r for r in router.routes
                 if isinstance(r, APIRoute) and r.path == path and method in (r.methods or ()))
    direct = DirectCommand(route, app.router)
    app.router.routes.insert(0, direct)
    return direct
