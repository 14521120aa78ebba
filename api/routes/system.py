"""GET /healthz (liveness with a store check) and GET /metrics (Prometheus); no token needed."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from fastapi import APIRouter, Request, Response

from api.schemas import Health
from api.strict_json import StrictJsonRoute

router = APIRouter(route_class=StrictJsonRoute, tags=["operations"])
log = logging.getLogger("fundledger.api")


class ViewsProgress:
    """When the views last moved: a runner that is behind and does not move is stuck."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._position: int | None = None
        self._since = clock()

    def still_for(self, views_position: int, behind: bool) -> float:
        """Seconds the views have stood at this position while behind (0 when caught up)."""
        with self._lock:
            now = self._clock()
            if views_position != self._position or not behind:
                self._position, self._since = views_position, now
            return now - self._since


@router.get("/healthz", response_model=Health,
            responses={503: {"model": Health, "description": "The store does not answer, or "
                             "the views fail, stall or lag beyond the bound"}})
def healthz(request: Request, response: Response) -> Health:
    """The store's position and the views' (those this server reads: a read replica's when it
    has one, whose lag is then the replica's and the runner's together). 503 when the views
    fail, stand still while behind, or lag more than the bound: with the reason and the
    position they are stuck at."""
    state = request.app.state
    settings = state.settings
    position = state.ledger.last_position()
    queries = state.queries
    views_position = queries.position() if queries is not None else None
    runner = getattr(state, "view_runner", None)
    status, reason = "ok", None
    if views_position is not None:
        lag = position - views_position
        still = state.views_progress.still_for(views_position, lag > 0)
        if runner is not None and runner.failures:
            status = "views_failing"
            reason = (f"the view runner failed {runner.failures} time(s) in a row on the page "
                      f"after position {views_position}: {runner.last_error}")
        elif lag > settings.health_views_lag_events_max:
            status = "views_behind"
            reason = (f"the views are {lag} events behind the store "
                      f"(bound {settings.health_views_lag_events_max})")
        elif lag > 0 and still > settings.health_views_stall_seconds_max:
            status = "views_stalled"
            reason = (f"the views have stood at position {views_position} for {still:.0f} s "
                      f"with {lag} event(s) to apply")
    if status != "ok":
        log.warning("healthz: %s", reason)
        response.status_code = 503
    return Health(status=status, position=position, views_position=views_position,
                  views_read_from="replica" if settings.reads_replica else "primary",
                  reason=reason, stuck_at=views_position if status != "ok" else None,
                  nul_text_at=list(runner.nul_positions) if runner is not None else [])


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text"}})
def metrics(request: Request) -> Response:
    """Request counts and latencies by route and status; view lag in events."""
    body, content_type = request.app.state.metrics.exposition()
    return Response(body, media_type=content_type)
