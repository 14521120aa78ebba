"""The bureau's calendar: its books are kept in China Standard Time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

BUREAU_TIMEZONE = ZoneInfo("Asia/Shanghai")


def bureau_today() -> date:
    """Today's business date at the bureau, wherever the server runs."""
    return datetime.now(BUREAU_TIMEZONE).date()
