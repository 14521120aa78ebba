"""Request bodies whose JSON names a key twice are refused (issue 14), never read last-wins.

`{"amount": 1, "amount": 100000000}` is valid JSON by RFC 8259's letter, but what it means
depends on the parser: a proxy or an audit log that keeps the first value and this API the
last would see two different requests. FastAPI reads the body with Starlette's
`Request.json`; every /v1 router is made with `route_class=StrictJsonRoute`, whose handler
reads it with a hook that refuses a second occurrence,
and the refusal is a JSON decode error, so it is answered like malformed JSON: after who asks
has been checked (api.problems), as 400 `duplicate_key` naming the key, nothing written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


class DuplicateKey(json.JSONDecodeError):
    """A JSON object naming `key` twice (a decode error, so FastAPI reports it as one)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"the key {key!r} appears more than once in one object", "", 0)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKey(key)
        found[key] = value
    return found


def loads_strict(text: str | bytes) -> Any:
    """`json.loads`, refusing an object that names a key twice (at any depth)."""
    return json.loads(text, object_pairs_hook=_unique_keys)


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads_strict(await self.body())
        return self._json


class StrictJsonRoute(APIRoute):
    """The route class of every /v1 router: its handler reads the body as StrictJsonRequest."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict_handler
