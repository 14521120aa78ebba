"""What a school reports of the balanced-development indicators the ledger does not hold:
qualified, key and PE/arts teachers, floor areas, and its junior enrolment when it has two
stages. Each report is an event with who reported it and as of which day; a later report
supersedes an earlier one from its day on.
"""

from __future__ import annotations

from datetime import date

from eventsourcing.domain import event

from domain.actors import Stamp
from domain.school import SchoolBook

# The figures a report carries, each a whole number: teachers, or square metres.
REPORTED_FIGURES = ("qualified_teachers", "key_teachers", "pe_arts_teachers",
                    "teaching_area_m2", "sports_area_m2")


class IndicatorReports(SchoolBook):
    book = "indicator-reports"

    def _open_empty(self) -> None:
        self.reports = 0

    def report(self, figures: dict[str, int], junior_pupils: int | None, stamp: Stamp) -> None:
        self._report(figures=figures, junior_pupils=junior_pupils, stamp=stamp)

    @event("Reported")
    def _report(self, figures: dict[str, int], junior_pupils: int | None, stamp: Stamp) -> None:
        self.reports += 1
        self.last_as_of: date = stamp.effective_date
