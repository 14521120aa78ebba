"""Opens the bureau's ledger on the configured store; the one composition root of the ledger."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from api.settings import Settings
from domain.ledger import FundLedger, bureau_today


def open_ledger(settings: Settings, clock: Callable[[], date] = bureau_today) -> FundLedger:
    return FundLedger(env=settings.eventsourcing_env(), clock=clock)
