"""A school the bureau funds. Its locale and enrolment have histories: a report for 2025
uses the locale and enrolment that held then.

A teaching point (教学点) is budgeted inside its parent school: it names the parent with a
`ParentLinked` event, and formula funding counts its pupils with the parent's.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actors import Stamp
from domain.classification import Locale
from domain.errors import InvalidInput, SchoolClosed
from domain.natural_keys import KeyedAggregate, natural_id


class EnrolmentReport(NamedTuple):
    """One enrolment count as a school reported it, as of its effective date (boarders and
    special-needs pupils None where the report did not give them)."""

    since: date
    students: int
    boarders: int | None
    special_needs: int | None


class School(KeyedAggregate):
    # 2: snapshots hold `parent_code` and `enrolment_reports` (boarders, special needs).
    class_version = 2

    class EnrolmentReported(Aggregate.Event):
        """A count of pupils as of the event's effective date. Version 2 adds the boarders
        and mainstreamed special-needs pupils among them (None: not reported)."""

        class_version = 2
        students: int
        boarders: int | None
        special_needs: int | None
        stamp: Stamp

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["boarders"] = None
            state["special_needs"] = None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["parent_code"] = None
        state["enrolment_reports"] = [
            EnrolmentReport(since, students, None, None)
            for since, students in state["enrolment_history"]]

    @staticmethod
    def id_for(code: str) -> UUID:
        """A school's id follows from its code, so the store itself refuses a second registration."""
        return natural_id("school", code)

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
        self.enrolment_reports: list[EnrolmentReport] = [
            EnrolmentReport(stamp.effective_date, students, None, None)]
        self.parent_code: str | None = None
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

    def enrolment_report_on(self, day: date) -> EnrolmentReport:
        """The report in force on a day: the latest one whose date is not after it."""
        dated = [(EnrolmentReport(*r).since, EnrolmentReport(*r)) for r in self.enrolment_reports]
        return _value_on(dated, day)

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

    def report_enrolment(self, students: int, stamp: Stamp, *, boarders: int | None = None,
                         special_needs: int | None = None) -> None:
        self._check_open()
        for what, count in (("boarders", boarders), ("special-needs pupils", special_needs)):
            if count is not None and count > students:
                msg = f"{what} ({count}) cannot exceed the pupils reported ({students})"
                raise InvalidInput(msg)
        self._report_enrolment(students=students, boarders=boarders,
                               special_needs=special_needs, stamp=stamp)

    @event(EnrolmentReported)
    def _report_enrolment(self, students: int, boarders: int | None, special_needs: int | None,
                          stamp: Stamp) -> None:
        _insert_dated(self.enrolment_history, stamp.effective_date, students)
        reports = [EnrolmentReport(*r) for r in self.enrolment_reports]
        position = len(reports)
        while position > 0 and reports[position - 1].since > stamp.effective_date:
            position -= 1
        reports.insert(position, EnrolmentReport(stamp.effective_date, students, boarders,
                                                 special_needs))
        self.enrolment_reports = reports

    def link_parent(self, parent_code: str, stamp: Stamp) -> None:
        """Makes this school a teaching point of `parent_code` (checked by the caller)."""
        self._check_open()
        if parent_code == self.code:
            msg = f"school {self.code} cannot be its own parent"
            raise InvalidInput(msg)
        self._link_parent(parent_code=parent_code, stamp=stamp)

    @event("ParentLinked")
    def _link_parent(self, parent_code: str, stamp: Stamp) -> None:
        self.parent_code = parent_code

    def close(self, stamp: Stamp) -> None:
        self._check_open()
        self._close(stamp=stamp)

    @event("Closed")
    def _close(self, stamp: Stamp) -> None:
        self.closed_on = stamp.effective_date

    def _check_open(self) -> None:
        if self.is_closed:
            msg = f"school {self.code} closed on {self.closed_on}"
            raise SchoolClosed(msg, f"学校 {self.code} 已于 {self.closed_on} 撤销")


class SchoolBook(KeyedAggregate):
    """What one school keeps of something beside its register (its assets, its indicator
    reports): opened by its first entry, known by the school's code, and naming the school's
    district, by which the stocks view lists its entries."""

    # The kind in the book's id ("assets"; stores hold the ids, so it never changes). Left
    # unannotated: the library makes a dataclass of an aggregate class with annotations.
    book = ""

    @classmethod
    def id_for(cls, school: str) -> UUID:
        return natural_id(cls.book, school)

    @event("Opened")
    def __init__(self, school: str, district: str) -> None:
        self.school = school
        self.district = district
        self._open_empty()

    def _open_empty(self) -> None:
        """What a new book holds before its first entry (each kind of book says)."""


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
