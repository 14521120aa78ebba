"""Opens the bureau's ledger, and the view runner that follows it, on the configured store:
the one composition root of both (which store, which recorder, which settings)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from api.settings import Settings
from domain.ledger import FundLedger, bureau_today
from projections.runner import ViewRunner


def open_ledger(settings: Settings, clock: Callable[[], date] = bureau_today) -> FundLedger:
    return FundLedger(env=settings.eventsourcing_env(), clock=clock)


def open_view_runner(settings: Settings, **options: Any) -> ViewRunner:
    """A view runner on its own ledger of the configured store, closed with it. `options` are
    ViewRunner's (views, page_size, check_schema)."""
    ledger = open_ledger(settings)
    try:
        return ViewRunner(settings, ledger=ledger, owns_ledger=True, **options)
    except BaseException:
        ledger.close()
        raise
