"""Prometheus metrics: requests by route and status, their latencies, and the views' lag.

Each app has its own registry (tests build many apps in one process). With several uvicorn
workers each worker answers /metrics for itself; the view lag is the same from any of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.middleware import HttpLayer

LATENCY_BUCKETS_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class ViewLag(Collector):
    """Events written but not yet in the views: ledger.last_position() - views.position()."""

    def __init__(self, positions: Callable[[], tuple[int, int | None]]) -> None:
        self.positions = positions

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            last, views = self.positions()
        except Exception:  # a scrape must not fail because the store is down
            return
        yield GaugeMetricFamily("fundledger_events_position", "Position of the last event written",
                                value=last)
        if views is not None:
            yield GaugeMetricFamily("fundledger_views_position",
                                    "Position the views have processed", value=views)
            yield GaugeMetricFamily("fundledger_view_lag_events",
                                    "Events written but not yet processed by the views",
                                    value=max(0, last - views))


class IntegrityCounts(Collector):
    """Snapshots refused for a failed seal, and the view runner's failures in a row (issue 14):
    what an auditor and an operator must be told even while the answers stay right."""

    def __init__(self, counts: Callable[[], tuple[int, int]]) -> None:
        self.counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            rejected, failures = self.counts()
        except Exception:  # a scrape must not fail because of it
            return
        yield GaugeMetricFamily("fundledger_snapshots_rejected",
                                "Snapshots ignored since start because their seal did not hold",
                                value=rejected)
        yield GaugeMetricFamily("fundledger_view_runner_failures",
                                "Pages the view runner has failed on in a row", value=failures)


class Metrics:
    def __init__(self, positions: Callable[[], tuple[int, int | None]],
                 counts: Callable[[], tuple[int, int]] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("fundledger_http_requests", "HTTP requests answered",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("fundledger_http_request_duration_seconds",
                                 "Time to answer an HTTP request", ["method", "route"],
                                 buckets=LATENCY_BUCKETS_SECONDS, registry=self.registry)
        self.registry.register(ViewLag(positions))
        if counts is not None:
            self.registry.register(IntegrityCounts(counts))

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware(HttpLayer):
    """Counts and times every request by its route template (never the raw path: ids would
    make a label per allocation)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        super().__init__(app)
        self.metrics = metrics

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = [500]

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.requests.labels(method, template, str(status[0])).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)
