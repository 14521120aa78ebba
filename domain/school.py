"""A school the bureau funds. Its locale and enrolment have histories: a report for 2025
uses the locale and enrolment that held then."""

from __future__ import annotations

from datetime import date
from typing import TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actors import Stamp
from domain.classification import Locale
from domain.errors import InvalidInput, SchoolClosed


class School(Aggregate):
    @staticmethod
    def id_for(code: str) -> UUID:
        """A school's id follows from its code, so the store itself refuses a second registration."""
        return uuid5(NAMESPACE_URL, f"fundledger:school:{code}")

    @staticmethod
    def create_id(code: str, **_: object) -> UUID:
        return School.id_for(code)

    @event("Registered")
    def __init__(
        self,
        code: str,
        name: str,
        district: str,
        level: str,
        locale: str,
        poverty_area: bool,
        students: int,
        stamp: Stamp,
    ) -> None:
        self.code = code
        self.name = name
        self.district = district
        self.level = level
        self.poverty_area = poverty_area
        self.locale_history: list[tuple[date, str]] = [(stamp.effective_date, locale)]
        self.enrolment_history: list[tuple[date, int]] = [(stamp.effective_date, students)]
        self.closed_on: date | None = None

    @property
    def locale(self) -> str:
        return self.locale_history[-1][1]

    @property
    def students(self) -> int:
        return self.enrolment_history[-1][1]

    @property
    def is_closed(self) -> bool:
        return self.closed_on is not None

    def locale_on(self, day: date) -> str:
        """The locale in force on a day; the registered one before any reclassification."""
        return _value_on(self.locale_history, day)

    def students_on(self, day: date) -> int:
        return _value_on(self.enrolment_history, day)

    def is_rural_support_eligible_on(self, day: date) -> bool:
        """Rural-support money may go to town or rural schools, or any school in a poverty area."""
        return self.poverty_area or self.locale_on(day) in (Locale.TOWN, Locale.RURAL)

    def reclassify(self, locale: str, stamp: Stamp) -> None:
        self._check_open()
        if locale == self.locale_on(stamp.effective_date):
            msg = f"school {self.code} is already {locale} on {stamp.effective_date}"
            raise InvalidInput(msg)
        self._reclassify(locale=locale, stamp=stamp)

    @event("Reclassified")
    def _reclassify(self, locale: str, stamp: Stamp) -> None:
        _insert_dated(self.locale_history, stamp.effective_date, locale)

    def report_enrolment(self, students: int, stamp: Stamp) -> None:
        self._check_open()
        self._report_enrolment(students=students, stamp=stamp)

    @event("EnrolmentReported")
    def _report_enrolment(self, students: int, stamp: Stamp) -> None:
        _insert_dated(self.enrolment_history, stamp.effective_date, students)

    def close(self, stamp: Stamp) -> None:
        self._check_open()
        self._close(stamp=stamp)

    @event("Closed")
    def _close(self, stamp: Stamp) -> None:
        self.closed_on = stamp.effective_date

    def _check_open(self) -> None:
        if self.is_closed:
            msg = f"school {self.code} closed on {self.closed_on}"
            raise SchoolClosed(msg)


T = TypeVar("T")


def _value_on(history: list[tuple[date, T]], day: date) -> T:
    value = history[0][1]
    for since, candidate in history:
        if since > day:
            break
        value = candidate
    return value


def _insert_dated(history: list[tuple[date, T]], since: date, value: T) -> None:
    """Keeps the history in effective-date order; a later report for the same day wins."""
    position = len(history)
    while position > 0 and history[position - 1][0] > since:
        position -= 1
    history.insert(position, (since, value))
