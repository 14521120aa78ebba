"""The order in which a request's path is matched against the API's routes: the busiest first.

FastAPI (0.165) matches a request against the app's routes one after another, and against an
included router by trying each of its routes, ~4 µs a route: `POST /v1/expenditures`, declared
behind 31 routes, spent ~140 µs finding its route, of the ~1 ms of server CPU a write costs
(issue 21). No path of one router is also a path of another (tests/api/test_route_order.py),
so the order changes no answer, only how soon the busiest requests find their route. The
OpenAPI document keeps the order in which the routers were declared.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute


def busiest_first(app: FastAPI, busiest: Sequence[APIRouter]) -> None:
    """Moves the routers `busiest` (included already) to the front of `app`'s routes, in that
    order; a router FastAPI does not keep as included (another release) stays where it is."""
    routes = app.router.routes
    declared = {path: place for place, path in enumerate(dict.fromkeys(_paths(routes)))}
    first = [route for router in busiest for route in routes
             if getattr(route, "original_router", None) is router]
    routes[:] = first + [route for route in routes if all(route is not f for f in first)]
    served = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = served()
            paths = document.get("paths", {})
            document["paths"] = dict(sorted(paths.items(),
                                            key=lambda item: declared.get(item[0], len(declared))))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _paths(routes: Sequence[Any]) -> list[str]:
    """The API routes' paths, in matching order, routers' routes in place."""
    found: list[str] = []
    for route in routes:
        router = getattr(route, "original_router", None)
        if router is not None:
            found.extend(_paths(router.routes))
        elif isinstance(route, APIRoute):
            found.append(route.path)
    return found
