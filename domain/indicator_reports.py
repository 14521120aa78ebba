"""What a school reports of the balanced-development indicators the ledger does not hold:
qualified, key and PE/arts teachers, floor areas, and its junior enrolment when it has two
stages. Each report is an event with who reported it and as of which day; a later report
supersedes an earlier one from its day on.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import event

from domain.actors import Stamp
from domain.natural_keys import KeyedAggregate, natural_id

# The figures a report carries, each a whole number: teachers, or square metres.
REPORTED_FIGURES = ("qualified_teachers", "key_teachers", "pe_arts_teachers",
                    "teaching_area_m2", "sports_area_m2")


class IndicatorReports(KeyedAggregate):
    @staticmethod
    def id_for(school: str) -> UUID:
        return natural_id("indicator-reports", school)

    @event("Opened")
    def __init__(self, school: str, district: str) -> None:
        self.school = school
        self.district = district
        self.reports = 0

    def report(self, figures: dict[str, int], junior_pupils: int | None, stamp: Stamp) -> None:
        self._report(figures=figures, junior_pupils=junior_pupils, stamp=stamp)

    @event("Reported")
    def _report(self, figures: dict[str, int], junior_pupils: int | None, stamp: Stamp) -> None:
        self.reports += 1
        self.last_as_of: date = stamp.effective_date
