"""A misspelt filter must never answer with unfiltered data: a GET whose query names a
parameter the endpoint does not take is refused (400 `unknown_query_parameter`, naming it)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from api.problems import ApiProblem

_NAMES_ATTRIBUTE = "_fundledger_query_names"
# Read-your-writes is asked the same way of every read; a read that is always current (one
# aggregate from the store) has nothing to wait for, but the parameter is no typo there.
EVERY_READ_TAKES = frozenset({"min_position"})


def _query_names(route: Any) -> frozenset[str]:
    """Worked out once per route and kept on it (routes are not hashable)."""
    known = getattr(route, _NAMES_ATTRIBUTE, None)
    if known is None:
        known = _walk(route)
        setattr(route, _NAMES_ATTRIBUTE, known)
    return known


def _walk(route: Any) -> frozenset[str]:
    names: set[str] = set()
    pending = [getattr(route, "dependant", None)]
    while pending:  # the route's own parameters and its dependencies', all the way down
        dependant = pending.pop()
        if dependant is None:
            continue
        names.update(param.alias for param in dependant.query_params)
        pending.extend(dependant.dependencies)
    return frozenset(names)


async def refuse_unknown_query(request: Request) -> None:
    """A router dependency of every /v1 router: runs before the route's own parameters.
    `async` because it does no I/O: FastAPI runs a plain `def` dependency in its thread pool,
    a hop out of the event loop and back on every request, reads and writes alike."""
    if request.method not in ("GET", "HEAD"):
        return
    route = request.scope.get("route")
    if route is None:
        return
    known = _query_names(route)
    unknown = sorted(set(request.query_params) - known - EVERY_READ_TAKES)
    if unknown:
        takes = ", ".join(sorted(known)) or "none"
        raise ApiProblem("unknown_query_parameter",
                         f"unknown query parameter {unknown[0]!r}; this endpoint takes: {takes}")
