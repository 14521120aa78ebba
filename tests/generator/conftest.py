"""Fixtures of the generator's tests: one small generated year shared by the read-only checks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import UUID

import pytest

from domain.ledger import FundLedger
from scripts.generator import GenerationSummary, generate
from tests.conftest import TODAY

SMALL_SCALE = 0.02  # 40 Xuzhou schools: a few seconds
SEED = 20250101


def new_ledger(today: date = TODAY) -> FundLedger:
    return FundLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: today)


@pytest.fixture(scope="module")
def generated() -> Iterator[tuple[FundLedger, GenerationSummary]]:
    """A generated small Xuzhou year, shared by tests that only read it."""
    ledger = new_ledger()
    summary = generate(ledger, preset="xuzhou", seed=SEED, scale=SMALL_SCALE)
    yield ledger, summary
    ledger.close()


def domain_events(ledger: FundLedger, limit: int | None = None) -> list[Any]:
    notifications = ledger.recorder.select_notifications(start=1, limit=limit or 10**9)
    return [ledger.mapper.to_domain_event(n) for n in notifications]


def event_contents(ledger: FundLedger, limit: int) -> list[tuple[str, dict[str, Any]]]:
    """Events as content: type and fields, without record times, and with every id replaced
    by the order in which it first appeared (ids the ledger draws at random)."""
    ordinals: dict[UUID, int] = {}

    def plain(value: Any) -> Any:
        if isinstance(value, UUID):
            return f"id#{ordinals.setdefault(value, len(ordinals))}"
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return [(type(e).__qualname__,
             {k: plain(v) for k, v in sorted(vars(e).items()) if k != "timestamp"})
            for e in domain_events(ledger, limit)]
