"""The bureau's working calendar: weekdays less the public holidays, plus the weekend days
worked in exchange (调休). Very few postings happen over Spring Festival: none here."""

from __future__ import annotations

import random
from datetime import date, timedelta
from functools import cache

# 除夕 (Spring Festival eve) is the eve of these dates; the holiday runs from the eve for 8 days.
_SPRING_FESTIVAL = {
    2020: date(2020, 1, 25), 2021: date(2021, 2, 12), 2022: date(2022, 2, 1),
    2023: date(2023, 1, 22), 2024: date(2024, 2, 10), 2025: date(2025, 1, 29),
    2026: date(2026, 2, 17), 2027: date(2027, 2, 6), 2028: date(2028, 1, 26),
    2029: date(2029, 2, 13), 2030: date(2030, 2, 3),
}
# 2025 as published by the State Council (国办发明电〔2024〕12号); other years use the fixed
# holidays and the Spring Festival table, without 调休 (close enough for timing).
_HOLIDAYS_2025 = (
    (date(2025, 1, 1), 1), (date(2025, 1, 28), 8), (date(2025, 4, 4), 3), (date(2025, 5, 1), 5),
    (date(2025, 5, 31), 3), (date(2025, 10, 1), 8),
)
_WORKED_WEEKENDS_2025 = (date(2025, 1, 26), date(2025, 2, 8), date(2025, 4, 27),
                         date(2025, 9, 28), date(2025, 10, 11))


@cache
def _holidays(year: int) -> frozenset[date]:
    spans: tuple[tuple[date, int], ...]
    if year == 2025:
        spans = _HOLIDAYS_2025
    else:
        festival = _SPRING_FESTIVAL.get(year, date(year, 2, 5))
        spans = ((date(year, 1, 1), 1), (festival - timedelta(days=1), 8), (date(year, 4, 5), 1),
                 (date(year, 5, 1), 5), (date(year, 10, 1), 7))
    return frozenset(start + timedelta(days=n) for start, length in spans for n in range(length))


def is_working_day(day: date) -> bool:
    if day.year == 2025 and day in _WORKED_WEEKENDS_2025:
        return True
    return day.weekday() < 5 and day not in _holidays(day.year)


@cache
def working_days_of_month(year: int, month: int) -> tuple[date, ...]:
    day = date(year, month, 1)
    days = []
    while day.month == month:
        if is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    return tuple(days)


def on_or_after(day: date) -> date:
    """The first working day on or after `day` (within the same year where possible)."""
    probe = day
    while not is_working_day(probe):
        probe += timedelta(days=1)
    if probe.year != day.year:  # the year ends in a holiday: step back instead
        return on_or_before(day)
    return probe


def on_or_before(day: date) -> date:
    probe = day
    while not is_working_day(probe):
        probe -= timedelta(days=1)
    return probe


def add_working_days(day: date, count: int) -> date:
    probe = day
    while count > 0:
        probe += timedelta(days=1)
        if is_working_day(probe):
            count -= 1
    return probe


def between(rng: random.Random, first: date, last: date) -> date:
    """A working day drawn uniformly from [first, last] (first's working day if none lies between)."""
    days = [d for d in (first + timedelta(days=n) for n in range((last - first).days + 1))
            if is_working_day(d)]
    return rng.choice(days) if days else on_or_after(first)


def semester_start(year: int, spring: bool) -> date:
    """Spring semester starts about two weeks after Spring Festival (mid-February); autumn on 1 September."""
    if spring:
        festival = _SPRING_FESTIVAL.get(year, date(year, 2, 5))
        return on_or_after(max(festival + timedelta(days=19), date(year, 2, 14)))
    return on_or_after(date(year, 9, 1))
