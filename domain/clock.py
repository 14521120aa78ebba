"""The bureau's calendar: its books are kept in China Standard Time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta
from itertools import count
from zoneinfo import ZoneInfo

from eventsourcing.domain import CanCreateTimestamp

BUREAU_TIMEZONE = ZoneInfo("Asia/Shanghai")


def bureau_today() -> date:
    """Today's business date at the bureau, wherever the server runs."""
    return datetime.now(BUREAU_TIMEZONE).date()


# ---------------------------------------------------------------- recording time
# Every event carries the UTC time it was recorded: the library's timestamp, taken when the
# event is created. A program that writes a past year in minutes (the demo's generator) says
# when a clerk would have recorded each entry through `recording_clock`, so the books show
# realistic recording times (the backdating finding reads them); otherwise it is now.

_recording: ContextVar[Callable[[], datetime] | None] = ContextVar("fundledger_recording",
                                                                    default=None)


def recorded_now() -> datetime:
    """The recording time of an event created now (UTC)."""
    clock = _recording.get()
    return clock() if clock is not None else datetime.now(UTC)


@contextmanager
def recording_clock(clock: Callable[[], datetime]) -> Iterator[None]:
    """Events created inside (in this thread) are recorded at the times `clock` gives."""
    token = _recording.set(clock)
    try:
        yield
    finally:
        _recording.reset(token)


def office_hours(day: date, step_seconds: float = 0.2) -> Callable[[], datetime]:
    """A clerk's clock on a business day: from 09:00 bureau time, a moment later at each event."""
    start = datetime.combine(day, time(9), tzinfo=BUREAU_TIMEZONE).astimezone(UTC)
    ticks = count()
    return lambda: start + timedelta(seconds=next(ticks) * step_seconds)


# The library takes each event's timestamp from this one static method; it is replaced once,
# here, so that `recording_clock` reaches every event of every aggregate.
CanCreateTimestamp.create_timestamp = staticmethod(recorded_now)  # type: ignore[method-assign]
