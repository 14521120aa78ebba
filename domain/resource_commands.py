"""The bureau's commands on resource stocks: devices and rooms, and the indicator
reports of the balanced-development evaluation.

A part of `FundLedger` (as domain/allocating.py is), extending the posts' commands
(domain/post_commands.py): each command checks its input, lets the aggregates check their
rules and saves what it changed in one atomic write through the application's `run`
(idempotency keys, bounded retries on a concurrent write, batches).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from domain.actors import Actor, Role
from domain.assets import AssetKind, ReceiptSource, SchoolAssets
from domain.classification import Level
from domain.errors import (
    ExpenditureNotFound,
    InvalidInput,
    UnitMismatch,
)
from domain.expenditure import Expenditure
from domain.indicator_reports import REPORTED_FIGURES, IndicatorReports
from domain.limits import (
    AMOUNT_MINOR_MAX,
    STUDENTS_MAX,
)
from domain.post_commands import DOCUMENT_LENGTH_MAX, PostCommands
from domain.rules import check_choice, check_text, check_whole, reason_text
from domain.stock_errors import (
    ImplausibleFigure,
)
from domain.unit_of_work import Decision, Outcome

if TYPE_CHECKING:
    from domain.school import School


QUANTITY_MAX = 1_000_000  # devices or rooms in one delivery
# The plausible range of what a school reports (refused beyond, with the bound named).
TEACHING_AREA_M2_PER_PUPIL_MAX = 60  # the national value is 4.5 (primary) / 5.8 (junior)
SPORTS_AREA_M2_PER_PUPIL_MAX = 250  # the national value is 7.5 / 10.2
AREA_M2_MAX = 1_000_000  # one school's floor or ground area
TEACHERS_PER_100_PUPILS_MAX = 50
PUPILS_FLOOR_FOR_BOUNDS = 10  # a tiny teaching point is bounded as if it had 10 pupils


class ResourceCommands(PostCommands):
    """Assets and indicator reports (and, from PostCommands, posts)."""

    # -------------------------------------------------------------- assets

    def receive_assets(
        self, actor: Actor, school: str, *, asset: str, quantity: int, value: int,
        expenditure: UUID | None = None, document: str = "",
        effective_date: date | None = None, idempotency_key: str | None = None,
    ) -> Outcome:
        """A delivery to a school's stock: bought with a recorded expenditure of the school
        (its value at most the amount spent) or received directly."""
        role = actor.acting_as(Role.OFFICER)
        kind = check_choice(asset, AssetKind, "asset").value
        quantity = check_whole(quantity, "quantity", 1, QUANTITY_MAX)
        value = check_whole(value, "value", 0, AMOUNT_MINOR_MAX, fen=True)
        document = check_text(document, "document", DOCUMENT_LENGTH_MAX, required=False)
        params = {"school": school, "asset": kind, "quantity": quantity, "value": value,
                  "expenditure": None if expenditure is None else str(expenditure),
                  "document": document, "effective_date": effective_date}

        def decide() -> Decision:
            stamp = self.stamp(actor, role, effective_date, idempotency_key, document)
            school_ = self._open_school(school, stamp.effective_date)
            if expenditure is not None:
                self._check_bought_with(school_, expenditure, value, stamp.effective_date)
            assets = self._assets(school_)
            assets.receive(kind, quantity, value,
                           (ReceiptSource.EXPENDITURE if expenditure else ReceiptSource.DIRECT).value,
                           None if expenditure is None else str(expenditure), document, stamp)
            return Decision([assets])

        return self.run(actor, "receive_assets", params, idempotency_key, decide)

    def dispose_assets(
        self, actor: Actor, school: str, *, asset: str, quantity: int, reason: str,
        value: int | None = None, effective_date: date | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Writes devices off (报废)."""
        role = actor.acting_as(Role.OFFICER)
        kind, quantity, value, reason = _checked_removal(asset, quantity, value, reason)
        params = {"school": school, "asset": kind, "quantity": quantity, "value": value,
                  "reason": reason, "effective_date": effective_date}

        def decide() -> Decision:
            stamp = self.stamp(actor, role, effective_date, idempotency_key, reason)
            school_ = self._open_school(school, stamp.effective_date)
            assets = self._assets(school_)
            assets.dispose(kind, quantity, value, stamp)
            return Decision([assets])

        return self.run(actor, "dispose_assets", params, idempotency_key, decide)

    def transfer_assets(
        self, actor: Actor, *, from_school: str, to_school: str, asset: str, quantity: int,
        reason: str, value: int | None = None, effective_date: date | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Moves devices from one school of a county to another: one pair of events."""
        role = actor.acting_as(Role.OFFICER)
        kind, quantity, value, reason = _checked_removal(asset, quantity, value, reason)
        params = {"from_school": from_school, "to_school": to_school, "asset": kind,
                  "quantity": quantity, "value": value, "reason": reason,
                  "effective_date": effective_date}

        def decide() -> Decision:
            stamp = self.stamp(actor, role, effective_date, idempotency_key, reason)
            source, target = self._pair(from_school, to_school, stamp.effective_date)
            out, into = self._assets(source), self._assets(target)
            transfer_id = str(uuid4())
            moved = out.transfer_out(transfer_id, kind, quantity, value, target.code, stamp)
            into.transfer_in(transfer_id, kind, quantity, moved, source.code, stamp)
            return Decision([out, into], [out, into])

        return self.run(actor, "transfer_assets", params, idempotency_key, decide)

    def get_assets(self, school: str) -> SchoolAssets | None:
        return self.find(SchoolAssets, SchoolAssets.id_for(school))

    # ---------------------------------------------------- indicator reports

    def report_indicators(
        self, actor: Actor, school: str, *, figures: dict[str, int],
        junior_pupils: int | None = None, effective_date: date | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """A school's report of the indicators the ledger does not hold, as of a day."""
        role = actor.acting_as(Role.OFFICER)
        figures = _check_figures(figures)
        if junior_pupils is not None:
            junior_pupils = check_whole(junior_pupils, "junior_pupils", 0, STUDENTS_MAX)
        params = {"school": school, "figures": figures, "junior_pupils": junior_pupils,
                  "effective_date": effective_date}

        def decide() -> Decision:
            stamp = self.stamp(actor, role, effective_date, idempotency_key)
            school_ = self._open_school(school, stamp.effective_date)
            _check_plausible(school_, figures, junior_pupils, stamp.effective_date)
            reports = self.find(IndicatorReports, IndicatorReports.id_for(school_.code))
            if reports is None:
                reports = IndicatorReports(school=school_.code, district=school_.district)
            reports.report(figures, junior_pupils, stamp)
            return Decision([reports])

        return self.run(actor, "report_indicators", params, idempotency_key, decide)

    # ------------------------------------------------------------ machinery

    def _assets(self, school: School) -> SchoolAssets:
        assets = self.find(SchoolAssets, SchoolAssets.id_for(school.code))
        return assets if assets is not None else SchoolAssets(school=school.code,
                                                              district=school.district)

    def _check_bought_with(self, school: School, expenditure_id: UUID, value: int,
                           day: date) -> None:
        spent = self.find(Expenditure, expenditure_id)
        if spent is None:
            msg = f"expenditure {expenditure_id} not found"
            raise ExpenditureNotFound(msg)
        if spent.school_code != school.code:
            msg = f"expenditure {expenditure_id} was spent by school {spent.school_code}"
            raise InvalidInput(msg)
        if spent.reversed:
            msg = f"expenditure {expenditure_id} is reversed"
            raise InvalidInput(msg)
        if spent.unit != "CNY":
            msg = f"expenditure {expenditure_id} is in {spent.unit}, not money"
            raise UnitMismatch(msg)
        if value > spent.amount:
            msg = (f"a delivery worth {value} fen cannot come from expenditure {expenditure_id} "
                   f"of {spent.amount} fen")
            raise InvalidInput(msg)
        if day < spent.spent_on:
            msg = f"the delivery ({day}) cannot come before the spending ({spent.spent_on})"
            raise InvalidInput(msg)


def _checked_removal(asset: str, quantity: int, value: int | None, reason: str
                     ) -> tuple[str, int, int | None, str]:
    """What leaves a school's stock (written off or moved): which asset, how many, their
    value when given, and why."""
    kind = check_choice(asset, AssetKind, "asset").value
    quantity = check_whole(quantity, "quantity", 1, QUANTITY_MAX)
    value = None if value is None else check_whole(value, "value", 0, AMOUNT_MINOR_MAX, fen=True)
    return kind, quantity, value, reason_text(reason)


def _check_figures(figures: dict[str, int]) -> dict[str, int]:
    if not isinstance(figures, dict) or set(figures) != set(REPORTED_FIGURES):
        msg = f"a report gives exactly these figures: {', '.join(REPORTED_FIGURES)}"
        raise InvalidInput(msg)
    for name in REPORTED_FIGURES:
        value = figures[name]
        if type(value) is not int or value < 0:
            msg = f"{name} must be a whole number, not negative; got {value!r}"
            raise InvalidInput(msg)
    return {name: figures[name] for name in REPORTED_FIGURES}


def _check_plausible(school: School, figures: dict[str, int], junior_pupils: int | None,
                     day: date) -> None:
    """Figures no real school could have are refused, naming the bound they break."""
    pupils = max(school.students_on(day), PUPILS_FLOOR_FOR_BOUNDS)
    bounds = (
        ("teaching_area_m2", TEACHING_AREA_M2_PER_PUPIL_MAX, "m² per pupil"),
        ("sports_area_m2", SPORTS_AREA_M2_PER_PUPIL_MAX, "m² per pupil"),
    )
    for name, per_pupil_max, unit in bounds:
        if figures[name] > AREA_M2_MAX:
            msg = f"{name} {figures[name]} m² is above the bound of {AREA_M2_MAX} m² for one school"
            raise ImplausibleFigure(msg)
        if figures[name] > per_pupil_max * pupils:
            msg = (f"{name} {figures[name]} m² is {figures[name] / pupils:.1f} {unit} for "
                   f"{pupils} pupils, above the plausible bound of {per_pupil_max} {unit}")
            raise ImplausibleFigure(msg)
    for name in ("qualified_teachers", "key_teachers", "pe_arts_teachers"):
        if figures[name] * 100 > TEACHERS_PER_100_PUPILS_MAX * pupils:
            msg = (f"{name} {figures[name]} for {pupils} pupils is above the plausible bound of "
                   f"{TEACHERS_PER_100_PUPILS_MAX} teachers per 100 pupils")
            raise ImplausibleFigure(msg)
    if junior_pupils is not None:
        if school.level not in (Level.NINE_YEAR, Level.COMPLETE):
            msg = f"junior_pupils is for nine-year and complete schools; {school.code} is {school.level}"
            raise InvalidInput(msg)
        if junior_pupils > school.students_on(day):
            msg = (f"junior_pupils {junior_pupils} is more than the school's "
                   f"{school.students_on(day)} pupils on {day}")
            raise InvalidInput(msg)

