"""The busiest routers are matched first (api/route_order.py). That is safe only while no path
of one router is also a path of another: then whichever router is tried first, a request
finds the one route it would have found in the declared order."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Match

from api.app import create_app
from api.direct_command import DirectCommand
from api.settings import Settings

PARAMETER = re.compile(r"\{[^}]+\}")


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return create_app(Settings(database_url="sqlite:///./var/openapi-only.db"))


def _scope(app: FastAPI, method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "query_string": b"",
            "headers": [], "app": app}


def _api_routes(route: Any) -> Iterator[APIRoute]:
    router = getattr(route, "original_router", None)
    if router is not None:
        for inner in router.routes:
            yield from _api_routes(inner)
    elif isinstance(route, APIRoute):
        yield route


def test_no_path_of_one_router_is_a_path_of_another(app: FastAPI) -> None:
    """The direct write (api/direct_command.py) stands in front of its own route only: it hands
    every request it does not answer on to the routers, which match it as before."""
    checked = 0
    for owner in app.router.routes:
        for route in _api_routes(owner):
            path = PARAMETER.sub("x-1", route.path)
            for method in route.methods:
                matched = [other for other in app.router.routes
                           if other.matches(_scope(app, method, path))[0] == Match.FULL]
                fronts = [m for m in matched if isinstance(m, DirectCommand)]
                assert all(front.route is route for front in fronts), f"{method} {path}"
                matched = [m for m in matched if not isinstance(m, DirectCommand)]
                assert matched == [owner], f"{method} {path} is matched by {len(matched)} routers"
                handed_on = {**_scope(app, method, path), "fundledger.handed_on": True}
                assert not any(front.matches(handed_on)[0] == Match.FULL for front in fronts)
                checked += 1
    assert checked > 100  # every operation of the API, not a few


def test_the_direct_write_stands_before_one_route(app: FastAPI) -> None:
    fronts = [route for route in app.router.routes if isinstance(route, DirectCommand)]
    assert [(front.route.path, front.methods) for front in fronts] == [
        ("/v1/expenditures", {"POST"})]


@pytest.mark.parametrize(("method", "path"), [("POST", "/v1/expenditures"),
                                              ("GET", "/v1/schools/S-1/balances"),
                                              ("GET", "/healthz")])
def test_a_busy_request_meets_its_route_among_the_first(app: FastAPI, method: str, path: str,
                                                        ) -> None:
    first = app.router.routes[:4]
    assert any(route.matches(_scope(app, method, path))[0] == Match.FULL for route in first)


def test_the_document_lists_the_paths_in_the_declared_order(app: FastAPI) -> None:
    paths = list(app.openapi()["paths"])
    assert paths[0] == "/v1/schools"
    assert paths.index("/v1/funds") < paths.index("/v1/allocations") < paths.index("/v1/expenditures")
    assert app.openapi() is app.openapi()  # built once
