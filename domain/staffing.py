"""Teacher posts (编制) of one county-level unit: a standing quota, not a yearly budget.

The staffing office (编办) approves the county's total; the education bureau distributes it
to its schools "within the approved total" (在核定的编制总额内统筹分配, domain.md §2.4): the
posts distributed never exceed the total. A school's posts are filled by hires and vacated
by departures; a rotation (交流轮岗) moves filled posts with their teachers from one school to
another as one pair of events, proposed by one person and approved by another. Nothing lapses
at year end. The history is kept in date order, so that the rules hold on every past day.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import event

from domain.actors import Stamp, check_not_maker
from domain.change import TwoPersonProposal
from domain.natural_keys import KeyedAggregate, natural_id
from domain.stock_errors import (
    MoveNotPending,
    NotEnoughFilled,
    NoVacancy,
    OverQuota,
    PostsBelowFilled,
    StockDateOrder,
)


class CountyPosts(KeyedAggregate):
    """The county total, each school's approved and filled posts, and pending moves."""

    @staticmethod
    def id_for(district: str) -> UUID:
        return natural_id("posts", district)

    @event("Opened")
    def __init__(self, district: str) -> None:
        self.district = district
        self.total = 0
        self.approved: dict[str, int] = {}
        self.filled: dict[str, int] = {}
        self.last_day: date | None = None

    @property
    def distributed(self) -> int:
        return sum(self.approved.values())

    def vacant(self, school: str) -> int:
        return self.approved.get(school, 0) - self.filled.get(school, 0)

    # ------------------------------------------------------------- commands

    def approve_total(self, total: int, document: str, stamp: Stamp) -> None:
        self._check_order(stamp.effective_date)
        if total < self.distributed:
            msg = (f"{self.district}: a total of {total} posts is below the {self.distributed} "
                   "already distributed to schools")
            raise OverQuota(msg)
        self._approve_total(total=total, delta=total - self.total, document=document, stamp=stamp)

    def distribute(self, school: str, posts: int, stamp: Stamp) -> None:
        """Sets a school's approved posts (核定编制), within the county total."""
        self._check_order(stamp.effective_date)
        before = self.approved.get(school, 0)
        if posts < self.filled.get(school, 0):
            msg = (f"school {school} has {self.filled.get(school, 0)} filled posts; its approved "
                   f"posts cannot be set to {posts}")
            raise PostsBelowFilled(msg)
        if self.distributed - before + posts > self.total:
            free = self.total - self.distributed + before
            msg = (f"{self.district}: {posts} posts for school {school} would exceed the approved "
                   f"total of {self.total} ({free} available to it)")
            raise OverQuota(msg)
        self._distribute(school=school, posts=posts, delta=posts - before, stamp=stamp)

    def hire(self, school: str, count: int, stamp: Stamp) -> None:
        self._check_order(stamp.effective_date)
        if count > self.vacant(school):
            msg = (f"school {school} has {self.vacant(school)} vacant posts; {count} cannot be "
                   "filled")
            raise NoVacancy(msg)
        self._hire(school=school, count=count, stamp=stamp)

    def depart(self, school: str, count: int, stamp: Stamp) -> None:
        self._check_order(stamp.effective_date)
        self.check_filled(school, count)
        self._depart(school=school, count=count, stamp=stamp)

    def move(self, move_id: str, from_school: str, to_school: str, count: int,
             stamp: Stamp) -> None:
        """Moves filled posts with their teachers (交流轮岗): one pair of events, out and in."""
        self._check_order(stamp.effective_date)
        self.check_filled(from_school, count)
        self._move_out(move_id=move_id, school=from_school, to_school=to_school, count=count,
                       stamp=stamp)
        self._move_in(move_id=move_id, school=to_school, from_school=from_school, count=count,
                      stamp=stamp)

    def _check_order(self, day: date) -> None:
        if self.last_day is not None and day < self.last_day:
            msg = (f"{self.district}: the posts' history is kept in date order; a change cannot "
                   f"take effect on {day}, before the last recorded change ({self.last_day})")
            raise StockDateOrder(msg)

    def check_filled(self, school: str, count: int) -> None:
        if count > self.filled.get(school, 0):
            msg = f"school {school} has {self.filled.get(school, 0)} filled posts, fewer than {count}"
            raise NotEnoughFilled(msg)

    def _note(self, stamp: Stamp) -> None:
        self.last_day = max(self.last_day or stamp.effective_date, stamp.effective_date)

    # --------------------------------------------------------------- events

    @event("TotalApproved")
    def _approve_total(self, total: int, delta: int, document: str, stamp: Stamp) -> None:
        self.total = total
        self._note(stamp)

    @event("PostsDistributed")
    def _distribute(self, school: str, posts: int, delta: int, stamp: Stamp) -> None:
        self.approved[school] = posts
        self._note(stamp)

    @event("Hired")
    def _hire(self, school: str, count: int, stamp: Stamp) -> None:
        self.filled[school] = self.filled.get(school, 0) + count
        self._note(stamp)

    @event("Departed")
    def _depart(self, school: str, count: int, stamp: Stamp) -> None:
        self.filled[school] -= count
        self._note(stamp)

    @event("MovedOut")
    def _move_out(self, move_id: str, school: str, to_school: str, count: int,
                  stamp: Stamp) -> None:
        self.approved[school] -= count
        self.filled[school] -= count
        self._note(stamp)

    @event("MovedIn")
    def _move_in(self, move_id: str, school: str, from_school: str, count: int,
                 stamp: Stamp) -> None:
        self.approved[school] = self.approved.get(school, 0) + count
        self.filled[school] = self.filled.get(school, 0) + count
        self._note(stamp)


class PostMove(TwoPersonProposal):
    """A proposed rotation of filled posts between two schools of one county: it moves
    nothing until another person approves it (two-person rule, as for every move of an
    approved resource)."""

    @event("Proposed")
    def __init__(self, id: UUID, district: str, from_school: str, to_school: str, count: int,
                 stamp: Stamp) -> None:
        self._proposed(stamp)
        self.district = district
        self.from_school = from_school
        self.to_school = to_school
        self.count = count
        self.effective_date = stamp.effective_date
        self.checker: str | None = None

    def check_checker(self, stamp: Stamp) -> None:
        if not self.is_pending:
            msg = f"post move {self.id} is already {self.status}"
            raise MoveNotPending(msg)
        check_not_maker(stamp, self.maker, f"proposed post move {self.id}", "decide")

    @event("Approved")
    def _approve(self, stamp: Stamp) -> None:
        self.status = "approved"
        self.checker = stamp.actor_id

    @event("Rejected")
    def _reject(self, stamp: Stamp) -> None:
        self.status = "rejected"
        self.checker = stamp.actor_id
