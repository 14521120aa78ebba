"""The bureau's commands on resource stocks: teacher posts, devices and rooms, and the
indicator reports of the balanced-development evaluation.

A part of `FundLedger` (as domain/allocating.py is): each command checks its input, lets the
aggregates check their rules and saves what it changed in one atomic write through the
application's `run` (idempotency keys, bounded retries on a concurrent write, batches).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from domain.actors import Actor, Role
from domain.assets import AssetKind, ReceiptSource, SchoolAssets
from domain.bureau import Bureau
from domain.classification import Level
from domain.errors import (
    ExpenditureNotFound,
    InvalidInput,
    SchoolClosed,
    UnitMismatch,
)
from domain.expenditure import Expenditure
from domain.idempotency import id_from_key
from domain.indicator_reports import REPORTED_FIGURES, IndicatorReports
from domain.limits import (
    AMOUNT_MINOR_MAX,
    NAME_LENGTH_MAX,
    REASON_LENGTH_MAX,
    STUDENTS_MAX,
)
from domain.rules import check_choice, check_text
from domain.staffing import CountyPosts, PostMove
from domain.stock_errors import (
    ImplausibleFigure,
    MoveNotFound,
    SchoolNotInCounty,
)
from domain.unit_of_work import Decision, Outcome

if TYPE_CHECKING:
    from domain.school import School

POSTS_MAX = 1_000_000  # posts of one county-level unit (Xuzhou's largest has ~20,000)
QUANTITY_MAX = 1_000_000  # devices or rooms in one delivery
# The plausible range of what a school reports (refused beyond, with the bound named).
TEACHING_AREA_M2_PER_PUPIL_MAX = 60  # the national value is 4.5 (primary) / 5.8 (junior)
SPORTS_AREA_M2_PER_PUPIL_MAX = 250  # the national value is 7.5 / 10.2
AREA_M2_MAX = 1_000_000  # one school's floor or ground area
TEACHERS_PER_100_PUPILS_MAX = 50
PUPILS_FLOOR_FOR_BOUNDS = 10  # a tiny teaching point is bounded as if it had 10 pupils
DOCUMENT_LENGTH_MAX = 200


class ResourceCommands(Bureau):
    """Posts (编制), assets and indicator reports."""

    # --------------------------------------------------------------- posts

    def approve_post_total(
        self, actor: Actor, district: str, *, total: int, document: str,
        effective_date: date | None = None, idempotency_key: str | None = None,
    ) -> Outcome:
        """Records the staffing office's approval of the county's total posts (核定编制总额),
        with the number of its document."""
        role = actor.acting_as(Role.OFFICER)
        district = check_text(district, "district", NAME_LENGTH_MAX)
        total = _check_count(total, "total", POSTS_MAX, zero=True)
        document = check_text(document, "document", DOCUMENT_LENGTH_MAX)
        params = {"district": district, "total": total, "document": document,
                  "effective_date": effective_date}

        def decide() -> Decision:
            posts = self._county_posts(district)
            stamp = self.stamp(actor, role, effective_date, idempotency_key, document)
            posts.approve_total(total, document, stamp)
            return Decision([posts], [posts])

        return self.run(actor, "approve_post_total", params, idempotency_key, decide)

    def distribute_posts(
        self, actor: Actor, school: str, *, posts: int, reason: str = "",
        effective_date: date | None = None, idempotency_key: str | None = None,
    ) -> Outcome:
        """Sets a school's approved posts (核定编制), within the county's total."""
        role = actor.acting_as(Role.OFFICER)
        posts = _check_count(posts, "posts", POSTS_MAX, zero=True)
        reason = check_text(reason, "reason", REASON_LENGTH_MAX, required=False)
        params = {"school": school, "posts": posts, "reason": reason,
                  "effective_date": effective_date}

        def decide() -> Decision:
            stamp = self.stamp(actor, role, effective_date, idempotency_key, reason)
            school_ = self._open_school(school, stamp.effective_date)
            county = self._county_posts(school_.district)
            county.distribute(school_.code, posts, stamp)
            return Decision([county], [county])

        return self.run(actor, "distribute_posts", params, idempotency_key, decide)

    def record_hires(
        self, actor: Actor, school: str, *, count: int, reason: str = "",
        effective_date: date | None = None, idempotency_key: str | None = None,
    ) -> Outcome:
        return self._staff_change(actor, "record_hires", school, count, reason,
                                  effective_date, idempotency_key, hire=True)

    def record_departures(
        self, actor: Actor, school: str, *, count: int, reason: str = "",
        effective_date: date | None = None, idempotency_key: str | None = None,
    ) -> Outcome:
        return self._staff_change(actor, "record_departures", school, count, reason,
                                  effective_date, idempotency_key, hire=False)

    def _staff_change(self, actor: Actor, command: str, school: str, count: int, reason: str,
                      effective_date: date | None, idempotency_key: str | None, *,
                      hire: bool) -> Outcome:
        role = actor.acting_as(Role.OFFICER)
        count = _check_count(count, "count", POSTS_MAX)
        reason = check_text(reason, "reason", REASON_LENGTH_MAX, required=False)
        params = {"school": school, "count": count, "reason": reason,
                  "effective_date": effective_date}

        def decide() -> Decision:
            stamp = self.stamp(actor, role, effective_date, idempotency_key, reason)
            school_ = self._open_school(school, stamp.effective_date)
            county = self._county_posts(school_.district)
            if hire:
                county.hire(school_.code, count, stamp)
            else:
                county.depart(school_.code, count, stamp)
            return Decision([county], [county])

        return self.run(actor, command, params, idempotency_key, decide)

    def propose_post_move(
        self, actor: Actor, *, from_school: str, to_school: str, count: int, reason: str,
        effective_date: date | None = None, idempotency_key: str | None = None,
    ) -> Outcome:
        """Proposes a rotation (交流轮岗) of filled posts; nothing moves until another person
        approves it. The move must be possible when proposed and again when approved."""
        role = actor.acting_as(Role.OFFICER)
        count = _check_count(count, "count", POSTS_MAX)
        reason = check_text(reason, "reason", REASON_LENGTH_MAX)
        params = {"from_school": from_school, "to_school": to_school, "count": count,
                  "reason": reason, "effective_date": effective_date}

        def decide() -> Decision:
            stamp = self.stamp(actor, role, effective_date, idempotency_key, reason)
            source, target = self._pair(from_school, to_school, stamp.effective_date)
            county = self._county_posts(source.district)
            county.check_filled(source.code, count)
            move_id = (id_from_key("post-move", actor.user_id, idempotency_key)
                       if idempotency_key else uuid4())
            move = PostMove(id=move_id, district=source.district, from_school=source.code,
                            to_school=target.code, count=count, stamp=stamp)
            return Decision([move], [move])

        return self.run(actor, "propose_post_move", params, idempotency_key, decide)

    def decide_post_move(
        self, actor: Actor, move_id: UUID, *, approve: bool, reason: str = "",
        effective_date: date | None = None, idempotency_key: str | None = None,
    ) -> Outcome:
        """Approves (the posts move: one pair of events, saved with the approval) or rejects a
        proposed move. The approver is not the proposer."""
        role = actor.acting_as(Role.APPROVER)
        reason = check_text(reason, "reason", REASON_LENGTH_MAX, required=not approve)
        params = {"move": str(move_id), "approve": approve, "reason": reason,
                  "effective_date": effective_date}

        def decide() -> Decision:
            move = self.find(PostMove, move_id)
            if move is None:
                msg = f"post move {move_id} not found"
                raise MoveNotFound(msg)
            stamp = self.stamp(actor, role, effective_date or max(move.effective_date,
                                                                    self.today()),
                                idempotency_key, reason)
            if stamp.effective_date < move.effective_date:
                msg = (f"the approval cannot take effect on {stamp.effective_date}, before the "
                       f"move's own date {move.effective_date}")
                raise InvalidInput(msg)
            move.decide(approve, stamp)
            if not approve:
                return Decision([move], [move])
            self._pair(move.from_school, move.to_school, stamp.effective_date)
            county = self._county_posts(move.district)
            county.move(str(move.id), move.from_school, move.to_school, move.count, stamp)
            return Decision([move, county], [move, county])

        return self.run(actor, "decide_post_move", params, idempotency_key, decide)

    def get_post_move(self, move_id: UUID) -> PostMove:
        move = self.find(PostMove, move_id)
        if move is None:
            msg = f"post move {move_id} not found"
            raise MoveNotFound(msg)
        return move

    def get_county_posts(self, district: str) -> CountyPosts:
        return self._county_posts(district)

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
        quantity = _check_count(quantity, "quantity", QUANTITY_MAX)
        value = _check_value(value)
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
            return Decision([assets], [assets])

        return self.run(actor, "receive_assets", params, idempotency_key, decide)

    def dispose_assets(
        self, actor: Actor, school: str, *, asset: str, quantity: int, reason: str,
        value: int | None = None, effective_date: date | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Writes devices off (报废)."""
        role = actor.acting_as(Role.OFFICER)
        kind = check_choice(asset, AssetKind, "asset").value
        quantity = _check_count(quantity, "quantity", QUANTITY_MAX)
        value = None if value is None else _check_value(value)
        reason = check_text(reason, "reason", REASON_LENGTH_MAX)
        params = {"school": school, "asset": kind, "quantity": quantity, "value": value,
                  "reason": reason, "effective_date": effective_date}

        def decide() -> Decision:
            stamp = self.stamp(actor, role, effective_date, idempotency_key, reason)
            school_ = self._open_school(school, stamp.effective_date)
            assets = self._assets(school_)
            assets.dispose(kind, quantity, value, stamp)
            return Decision([assets], [assets])

        return self.run(actor, "dispose_assets", params, idempotency_key, decide)

    def transfer_assets(
        self, actor: Actor, *, from_school: str, to_school: str, asset: str, quantity: int,
        reason: str, value: int | None = None, effective_date: date | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Moves devices from one school of a county to another: one pair of events."""
        role = actor.acting_as(Role.OFFICER)
        kind = check_choice(asset, AssetKind, "asset").value
        quantity = _check_count(quantity, "quantity", QUANTITY_MAX)
        value = None if value is None else _check_value(value)
        reason = check_text(reason, "reason", REASON_LENGTH_MAX)
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
            junior_pupils = _check_count(junior_pupils, "junior_pupils", STUDENTS_MAX, zero=True)
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
            return Decision([reports], [reports])

        return self.run(actor, "report_indicators", params, idempotency_key, decide)

    # ------------------------------------------------------------ machinery

    def _county_posts(self, district: str) -> CountyPosts:
        posts = self.find(CountyPosts, CountyPosts.id_for(district))
        return posts if posts is not None else CountyPosts(district=district)

    def _assets(self, school: School) -> SchoolAssets:
        assets = self.find(SchoolAssets, SchoolAssets.id_for(school.code))
        return assets if assets is not None else SchoolAssets(school=school.code,
                                                              district=school.district)

    def _open_school(self, code: str, day: date) -> School:
        """The school, registered by `day` and not closed on it."""
        school = self._school(code)
        registered = school.enrolment_history[0][0]
        if day < registered:
            msg = f"school {code} was registered on {registered}, after {day}"
            raise InvalidInput(msg)
        if school.closed_on is not None and school.closed_on <= day:
            msg = f"school {code} closed on {school.closed_on}"
            raise SchoolClosed(msg)
        return school

    def _pair(self, from_school: str, to_school: str, day: date) -> tuple[School, School]:
        if from_school == to_school:
            msg = "a move needs two different schools"
            raise InvalidInput(msg)
        source = self._open_school(from_school, day)
        target = self._open_school(to_school, day)
        if source.district != target.district:
            msg = (f"school {to_school} is in {target.district}, not in {source.district}: "
                   "moves stay within one county-level unit")
            raise SchoolNotInCounty(msg)
        return source, target

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


def _check_count(value: int, what: str, maximum: int, *, zero: bool = False) -> int:
    low = 0 if zero else 1
    if type(value) is not int or not low <= value <= maximum:
        msg = f"{what} must be a whole number between {low} and {maximum}"
        raise InvalidInput(msg)
    return value


def _check_value(value: int) -> int:
    if type(value) is not int or not 0 <= value <= AMOUNT_MINOR_MAX:
        msg = f"value must be a whole number of fen between 0 and {AMOUNT_MINOR_MAX}"
        raise InvalidInput(msg)
    return value


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

