"""The bureau's commands on teacher posts (编制): the county's approved total, its
distribution to schools, hires and departures, and moves between schools (two-person).

A part of `FundLedger` through `ResourceCommands` (domain/resource_commands.py): each command
checks its input, lets the aggregates check their rules and saves what it changed in one
atomic write through the application's `run`.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from domain.actors import Actor, Role, Stamp
from domain.bureau import Bureau
from domain.errors import (
    InvalidInput,
    SchoolClosed,
)
from domain.idempotency import id_from_key
from domain.limits import (
    NAME_LENGTH_MAX,
)
from domain.rules import check_text, check_whole, reason_text
from domain.staffing import CountyPosts, PostMove
from domain.stock_errors import (
    MoveNotFound,
    SchoolNotInCounty,
)
from domain.unit_of_work import Decision, Outcome

if TYPE_CHECKING:
    from collections.abc import Callable

    from domain.school import School


POSTS_MAX = 1_000_000  # posts of one county-level unit (Xuzhou's largest has ~20,000)
DOCUMENT_LENGTH_MAX = 200


class PostCommands(Bureau):
    """Posts (编制), and what the resource commands share: open schools and pairs of them."""

    # --------------------------------------------------------------- posts

    def approve_post_total(
        self, actor: Actor, district: str, *, total: int, document: str,
        effective_date: date | None = None, idempotency_key: str | None = None,
    ) -> Outcome:
        """Records the staffing office's approval of the county's total posts (核定编制总额),
        with the number of its document."""
        role = actor.acting_as(Role.OFFICER)
        district = check_text(district, "district", NAME_LENGTH_MAX)
        total = check_whole(total, "total", 0, POSTS_MAX)
        document = check_text(document, "document", DOCUMENT_LENGTH_MAX)
        params = {"district": district, "total": total, "document": document,
                  "effective_date": effective_date}

        def decide() -> Decision:
            posts = self._county_posts(district)
            stamp = self.stamp(actor, role, effective_date, idempotency_key, document)
            posts.approve_total(total, document, stamp)
            return Decision([posts])

        return self.run(actor, "approve_post_total", params, idempotency_key, decide)

    def distribute_posts(
        self, actor: Actor, school: str, *, posts: int, reason: str = "",
        effective_date: date | None = None, idempotency_key: str | None = None,
    ) -> Outcome:
        """Sets a school's approved posts (核定编制), within the county's total."""
        role = actor.acting_as(Role.OFFICER)
        posts = check_whole(posts, "posts", 0, POSTS_MAX)
        reason = reason_text(reason, required=False)
        return self._school_posts(
            actor, role, "distribute_posts", school, {"posts": posts}, reason, effective_date,
            idempotency_key, lambda county, code, stamp: county.distribute(code, posts, stamp))

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
        count = check_whole(count, "count", 1, POSTS_MAX)
        reason = reason_text(reason, required=False)
        return self._school_posts(
            actor, role, command, school, {"count": count}, reason, effective_date,
            idempotency_key, lambda county, code, stamp: (county.hire if hire else county.depart)(
                code, count, stamp))

    def _school_posts(self, actor: Actor, role: Role, command: str, school: str,
                      figures: dict[str, int], reason: str, effective_date: date | None,
                      idempotency_key: str | None,
                      change: Callable[[CountyPosts, str, Stamp], None]) -> Outcome:
        """A change of one open school's posts, made on its county's posts."""
        params = {"school": school, **figures, "reason": reason, "effective_date": effective_date}

        def decide() -> Decision:
            stamp = self.stamp(actor, role, effective_date, idempotency_key, reason)
            school_ = self._open_school(school, stamp.effective_date)
            county = self._county_posts(school_.district)
            change(county, school_.code, stamp)
            return Decision([county])

        return self.run(actor, command, params, idempotency_key, decide)

    def propose_post_move(
        self, actor: Actor, *, from_school: str, to_school: str, count: int, reason: str,
        effective_date: date | None = None, idempotency_key: str | None = None,
    ) -> Outcome:
        """Proposes a rotation (交流轮岗) of filled posts; nothing moves until another person
        approves it. The move must be possible when proposed and again when approved."""
        role = actor.acting_as(Role.OFFICER)
        count = check_whole(count, "count", 1, POSTS_MAX)
        reason = reason_text(reason)
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
            return Decision([move])

        return self.run(actor, "propose_post_move", params, idempotency_key, decide)

    def decide_post_move(
        self, actor: Actor, move_id: UUID, *, approve: bool, reason: str = "",
        effective_date: date | None = None, idempotency_key: str | None = None,
    ) -> Outcome:
        """Approves (the posts move: one pair of events, saved with the approval) or rejects a
        proposed move. The approver is not the proposer."""
        role = actor.acting_as(Role.APPROVER)
        reason = reason_text(reason, required=not approve)
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
                return Decision([move])
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

    # ------------------------------------------------------------ machinery

    def _county_posts(self, district: str) -> CountyPosts:
        posts = self.find(CountyPosts, CountyPosts.id_for(district))
        return posts if posts is not None else CountyPosts(district=district)

    def _open_school(self, school_code: str, day: date) -> School:
        """The school, registered by `day` and not closed on it."""
        school = self._school(school_code)
        registered = school.enrolment_history[0][0]
        if day < registered:
            msg = f"school {school_code} was registered on {registered}, after {day}"
            raise InvalidInput(msg)
        if school.closed_on is not None and school.closed_on <= day:
            msg = f"school {school_code} closed on {school.closed_on}"
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


