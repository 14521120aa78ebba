"""Enrolment snapshots: a frozen, named set of per-school pupil counts (total, boarders,
special-needs) as of a date, which formula funding computes from.

Counts come from the schools' reported enrolment history (each row names the report it came
from: the school's event version and the report's date) or from the school register's CSV
export (each row names its line). Once taken, a snapshot never changes: a corrected count is
a new snapshot, so every tranche computed from one can be recomputed from it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.actors import Stamp
from domain.errors import InvalidInput
from domain.limits import STUDENTS_MAX
from domain.natural_keys import KeyedAggregate, natural_id

SNAPSHOT_ROWS_MAX = 20_000


class UnknownSchools(InvalidInput, code="unknown_schools"):
    """A snapshot counts only registered schools."""


class DuplicateSchools(InvalidInput, code="duplicate_schools"):
    """A snapshot counts each school once."""


@dataclass(frozen=True)
class EnrolmentCount:
    """One school's counts; `source` says where they came from (a report or a CSV line)."""

    school: str
    total: int
    boarders: int
    special_needs: int
    source: dict[str, Any]

    @classmethod
    def checked(cls, school: str, total: Any, boarders: Any, special_needs: Any,
                source: dict[str, Any], where: str) -> EnrolmentCount:
        counts = {"total": total, "boarders": boarders, "special_needs": special_needs}
        for what, value in counts.items():
            if type(value) is not int or not 0 <= value <= STUDENTS_MAX:
                msg = f"{where}: {what} must be a whole number between 0 and {STUDENTS_MAX}, not {value!r}"
                raise InvalidInput(msg)
        if boarders > total or special_needs > total:
            msg = f"{where}: boarders and special-needs pupils are among the {total} pupils, not more"
            raise InvalidInput(msg)
        return cls(school, total, boarders, special_needs, source)


def check_rows(rows: list[EnrolmentCount], known: set[str]) -> None:
    """A snapshot names each school once, and only schools the bureau has registered."""
    if not rows:
        msg = "a snapshot needs at least one school"
        raise InvalidInput(msg)
    if len(rows) > SNAPSHOT_ROWS_MAX:
        msg = f"a snapshot holds at most {SNAPSHOT_ROWS_MAX} schools"
        raise InvalidInput(msg)
    twice = sorted(code for code, n in Counter(r.school for r in rows).items() if n > 1)
    if twice:
        msg = f"schools named more than once: {', '.join(twice[:20])}"
        raise DuplicateSchools(msg)
    unknown = sorted({r.school for r in rows} - known)
    if unknown:
        msg = f"unknown schools: {', '.join(unknown[:20])}" + (
            f" and {len(unknown) - 20} more" if len(unknown) > 20 else "")
        raise UnknownSchools(msg)


class EnrolmentSnapshot(KeyedAggregate):
    """Taken once, never changed."""

    @staticmethod
    def id_for(name: str) -> UUID:
        """A snapshot's id follows from its name: a second snapshot of the same name is refused."""
        return natural_id("enrolment-snapshot", name)

    @event("Taken")
    def __init__(self, name: str, as_of: date, origin: str, rows: list[dict[str, Any]],
                 stamp: Stamp) -> None:
        self.name = name
        self.as_of = as_of
        self.origin = origin
        self.rows = rows
        self.taken_by = stamp.actor_id

    @classmethod
    def take(cls, name: str, as_of: date, origin: str, rows: list[EnrolmentCount],
             stamp: Stamp) -> EnrolmentSnapshot:
        ordered = sorted(rows, key=lambda r: r.school)
        return cls(name=name, as_of=as_of, origin=origin, rows=[asdict(r) for r in ordered],
                   stamp=stamp)

    def counts(self) -> list[EnrolmentCount]:
        return [EnrolmentCount(**row) for row in self.rows]
