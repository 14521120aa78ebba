"""GET /healthz (liveness with a store check) and GET /metrics (Prometheus); no token needed."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
def healthz(request: Request) -> Health:
    """Answers once the store answers: the last event's position, and the views' position."""
    position = request.app.state.ledger.last_position()
    queries = request.app.state.queries
    return Health(status="ok", position=position,
                  views_position=queries.position() if queries is not None else None)


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text"}})
def metrics(request: Request) -> Response:
    """Request counts and latencies by route and status; view lag in events."""
    body, content_type = request.app.state.metrics.exposition()
    return Response(body, media_type=content_type)
