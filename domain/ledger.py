"""The bureau's ledger: one method per command of the finance office.

Each command loads the aggregates it needs, lets them check their rules, and saves every
aggregate it changed in one atomic `save()`. A concurrent write to the same aggregates
makes the store refuse the save (optimistic concurrency); the command then starts again
from fresh state, a bounded number of times, before it reports a conflict.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5
from zoneinfo import ZoneInfo

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    project_aggregate,
)
from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Recording

from domain.access import AccessToken, UserAccount, new_token, token_hash
from domain.actors import Actor, Role, Stamp
from domain.allocation import Allocation
from domain.classification import (
    DEFAULT_CLASS,
    DEFAULT_CLASSES,
    Category,
    Earmark,
    ExpenditureClass,
    Level,
    Locale,
    Source,
)
from domain.errors import (
    AllocationNotFound,
    CarryOverTargetInvalid,
    ConcurrencyConflict,
    DateOutsideFiscalYear,
    EarmarkViolation,
    ExpenditureClassNotAllowed,
    ExpenditureNotFound,
    FundAlreadyOpened,
    FundNotFound,
    InvalidInput,
    LedgerError,
    LevelNotEligible,
    SchoolAlreadyRegistered,
    SchoolClosed,
    SchoolNotFound,
    TransferNotAllowed,
    UnitMismatch,
    UnknownToken,
    UserNotFound,
    VersionMismatch,
)
from domain.expenditure import Expenditure, VoucherNumber
from domain.fund import Fund
from domain.idempotency import IdempotencyRecord, id_from_key
from domain.limits import (
    CODE_LENGTH_MAX,
    COMMAND_ATTEMPTS_MAX,
    COMMAND_RETRY_WAIT_SECONDS_MAX,
    DESCRIPTION_LENGTH_MAX,
    FISCAL_YEAR_MAX,
    FISCAL_YEAR_MIN,
    IDEMPOTENCY_KEY_LENGTH_MAX,
    NAME_LENGTH_MAX,
    PAYEE_LENGTH_MAX,
    REASON_LENGTH_MAX,
    RECENT_AGGREGATES_MAX,
    STUDENTS_MAX,
    VOUCHER_LENGTH_MAX,
)
from domain.rules import check_choice, check_code, check_not_future, check_text
from domain.school import School
from domain.transcodings import DateAsISO, StampAsDict
from domain.units import check_amount, check_delta, unit_of

BUREAU_TIMEZONE = ZoneInfo("Asia/Shanghai")

A = TypeVar("A", bound=Aggregate)


def bureau_today() -> date:
    """The bureau keeps its books in China Standard Time."""
    return datetime.now(BUREAU_TIMEZONE).date()


@dataclass
class Outcome:
    """What a command did: the aggregates it was about, and the position of its last event.

    `replayed` is true when an idempotency key matched an earlier request: nothing was
    written and the subjects are as that request left them. Inside a batch the position
    is known only once the batch is saved.
    """

    subjects: list[Any]
    position: int
    replayed: bool = False

    @property
    def subject(self) -> Any:
        return self.subjects[0]


@dataclass
class Batch:
    """The unit of work of `FundLedger.batch()`: aggregates as its commands left them."""

    aggregates: dict[UUID, Aggregate] = field(default_factory=dict)
    events: list[Any] = field(default_factory=list)
    # Group commit creates register entries and idempotency records without looking first:
    # the store refuses a duplicate, and the group then runs its commands one by one.
    optimistic: bool = False
    tickets: list[tuple[Outcome, UUID, int]] = field(default_factory=list)
    position: int = 0

    @property
    def event_count(self) -> int:
        return len(self.events)


_current_batch: ContextVar[Batch | None] = ContextVar("fundledger_batch", default=None)
_optimistic_kind: ContextVar[bool] = ContextVar("fundledger_optimistic", default=False)
_working_set: ContextVar[dict[UUID, Aggregate] | None] = ContextVar("fundledger_working",
                                                                    default=None)


@dataclass
class _Decision:
    subjects: list[Aggregate]
    changed: list[Aggregate] = field(default_factory=list)


class FundLedger(Application[UUID]):
    """Schools, funds, allocations and expenditures of one education bureau."""

    name = "FundLedger"
    snapshotting_intervals = {Fund: 50, Allocation: 100, School: 50}  # noqa: RUF012

    def __init__(self, env: dict[str, str] | None = None,
                 clock: Callable[[], date] = bureau_today) -> None:
        super().__init__(env)
        self.today = clock
        # Aggregates as this process last wrote them, for batches to start from without a
        # read. Another process's write makes an entry stale; the store then refuses the
        # batch's save (optimistic concurrency) and the whole memory is forgotten.
        self._recent: OrderedDict[UUID, Aggregate] = OrderedDict()
        self._recent_lock = threading.Lock()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())
        transcoder.register(StampAsDict())

    def save(self, *objs: Aggregate | DomainEventProtocol[UUID] | None,
             **kwargs: Any) -> list[Recording[UUID]]:
        """As `Application.save`, telling aggregates from events by class: the library asks
        `isinstance` of a runtime protocol for each object, which cost ~8 % of a bulk import."""
        processing: ProcessingEvent[UUID] = ProcessingEvent()
        for obj in objs:
            if obj is None:
                continue
            if isinstance(obj, Aggregate):
                processing.events.extend(obj.collect_events())
                processing.aggregates[obj.id] = obj
            else:
                processing.events.append(obj)
        processing.saved_kwargs.update(kwargs)
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        return recordings

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Snapshots from the saved aggregate itself when it is at the snapshot's version;
        the library reads the aggregate back from the store to take each one."""
        assert self.snapshots is not None
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            interval = self.snapshotting_intervals.get(type(aggregate)) if aggregate else None
            if interval is None or event.originator_version % interval:
                continue
            if aggregate is not None and aggregate.version == event.originator_version:
                self.snapshots.put([type(aggregate).Snapshot.take(aggregate)])
            else:
                self.take_snapshot(event.originator_id, version=event.originator_version)

    # ----------------------------------------------------------------- schools

    def register_school(
        self, actor: Actor, *, code: str, name: str, district: str, level: str,
        locale: str, poverty_area: bool, students: int,
        effective_date: date | None = None, idempotency_key: str | None = None,
    ) -> Outcome:
        role = actor.acting_as(Role.OFFICER)
        code = check_code(code, "school code", CODE_LENGTH_MAX)
        name = check_text(name, "name", NAME_LENGTH_MAX)
        district = check_text(district, "district", NAME_LENGTH_MAX)
        level = check_choice(level, Level, "level").value
        locale = check_choice(locale, Locale, "locale").value
        students = _check_students(students)
        params = {"code": code, "name": name, "district": district, "level": level,
                  "locale": locale, "poverty_area": bool(poverty_area), "students": students,
                  "effective_date": effective_date}

        def decide() -> _Decision:
            if self._find(School, School.id_for(code)) is not None:
                msg = f"school {code} is already registered"
                raise SchoolAlreadyRegistered(msg)
            stamp = self._stamp(actor, role, effective_date, idempotency_key)
            school = School(code=code, name=name, district=district, level=level,
                            locale=locale, poverty_area=bool(poverty_area),
                            students=students, stamp=stamp)
            return _Decision([school], [school])

        return self._run(actor, "register_school", params, idempotency_key, decide)

    def reclassify_school(
        self, actor: Actor, code: str, *, locale: str, reason: str,
        effective_date: date | None = None, expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        role = actor.acting_as(Role.OFFICER)
        locale = check_choice(locale, Locale, "locale").value
        reason = check_text(reason, "reason", REASON_LENGTH_MAX)
        params = {"code": code, "locale": locale, "reason": reason,
                  "effective_date": effective_date}

        def decide() -> _Decision:
            school = self._school(code, expected_version)
            stamp = self._stamp(actor, role, effective_date, idempotency_key, reason)
            school.reclassify(locale, stamp)
            return _Decision([school], [school])

        return self._run(actor, "reclassify_school", params, idempotency_key, decide)

    def report_enrolment(
        self, actor: Actor, code: str, *, students: int, effective_date: date | None = None,
        reason: str = "", expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        role = actor.acting_as(Role.OFFICER)
        students = _check_students(students)
        reason = check_text(reason, "reason", REASON_LENGTH_MAX, required=False)
        params = {"code": code, "students": students, "effective_date": effective_date,
                  "reason": reason}

        def decide() -> _Decision:
            school = self._school(code, expected_version)
            stamp = self._stamp(actor, role, effective_date, idempotency_key, reason)
            school.report_enrolment(students, stamp)
            return _Decision([school], [school])

        return self._run(actor, "report_enrolment", params, idempotency_key, decide)

    def close_school(
        self, actor: Actor, code: str, *, reason: str, effective_date: date | None = None,
        expected_version: int | None = None, idempotency_key: str | None = None,
    ) -> Outcome:
        role = actor.acting_as(Role.OFFICER)
        reason = check_text(reason, "reason", REASON_LENGTH_MAX)
        params = {"code": code, "reason": reason, "effective_date": effective_date}

        def decide() -> _Decision:
            school = self._school(code, expected_version)
            school.close(self._stamp(actor, role, effective_date, idempotency_key, reason))
            return _Decision([school], [school])

        return self._run(actor, "close_school", params, idempotency_key, decide)

    # ------------------------------------------------------------------- funds

    def open_fund(
        self, actor: Actor, *, code: str, name: str, fiscal_year: int, unit: str,
        amount: int, source: str, category: str, earmark: str = Earmark.NONE.value,
        levels: Sequence[str] = (), expenditure_classes: Sequence[str] = (),
        effective_date: date | None = None, idempotency_key: str | None = None,
    ) -> Outcome:
        role = actor.acting_as(Role.OFFICER)
        code = check_code(code, "fund code", CODE_LENGTH_MAX)
        name = check_text(name, "name", NAME_LENGTH_MAX)
        fiscal_year = _check_fiscal_year(fiscal_year)
        unit = unit_of(unit).code
        amount = check_amount(amount)
        source = check_choice(source, Source, "source").value
        category_ = check_choice(category, Category, "category")
        earmark = check_choice(earmark, Earmark, "earmark").value
        levels_ = sorted({check_choice(v, Level, "level").value for v in levels})
        classes = [check_choice(v, ExpenditureClass, "expenditure class").value
                   for v in expenditure_classes] or [c.value for c in DEFAULT_CLASSES[category_]]
        params = {"code": code, "name": name, "fiscal_year": fiscal_year, "unit": unit,
                  "amount": amount, "source": source, "category": category_.value,
                  "earmark": earmark, "levels": levels_, "classes": classes,
                  "effective_date": effective_date}

        def decide() -> _Decision:
            if self._find(Fund, Fund.id_for(code)) is not None:
                msg = f"fund {code} is already open"
                raise FundAlreadyOpened(msg)
            stamp = self._stamp(actor, role, effective_date, idempotency_key)
            fund = Fund(code=code, name=name, fiscal_year=fiscal_year, unit=unit, amount=amount,
                        source=source, category=category_.value, earmark=earmark,
                        levels=levels_, expenditure_classes=classes, stamp=stamp)
            return _Decision([fund], [fund])

        return self._run(actor, "open_fund", params, idempotency_key, decide)

    def adjust_fund(
        self, actor: Actor, code: str, *, delta: int, reason: str,
        effective_date: date | None = None, expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        role = actor.acting_as(Role.APPROVER)
        delta = check_delta(delta)
        reason = check_text(reason, "reason", REASON_LENGTH_MAX)
        params = {"code": code, "delta": delta, "reason": reason,
                  "effective_date": effective_date}

        def decide() -> _Decision:
            fund = self._fund(code, expected_version)
            stamp = self._stamp_in_year(actor, role, fund, effective_date, idempotency_key,
                                        reason)
            fund.adjust_appropriation(delta, stamp)
            return _Decision([fund], [fund])

        return self._run(actor, "adjust_fund", params, idempotency_key, decide)

    def close_fund(
        self, actor: Actor, code: str, *, disposition: str = "lapse",
        carry_to: str | None = None, reason: str = "year-end close",
        effective_date: date | None = None, expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Year-end close: each open allocation's remainder lapses (结余) or is carried
        over (结转) into a named fund of the next fiscal year for the same school."""
        role = actor.acting_as(Role.APPROVER)
        if disposition not in ("lapse", "carry_over"):
            msg = "disposition must be 'lapse' or 'carry_over'"
            raise InvalidInput(msg)
        if (disposition == "carry_over") != (carry_to is not None):
            msg = "carry_to names the next year's fund exactly when the disposition is carry_over"
            raise InvalidInput(msg)
        reason = check_text(reason, "reason", REASON_LENGTH_MAX)
        params = {"code": code, "disposition": disposition, "carry_to": carry_to,
                  "reason": reason, "effective_date": effective_date}

        def decide() -> _Decision:
            fund = self._fund(code, expected_version)
            fund.check_open()
            stamp = self._stamp_in_year(actor, role, fund, effective_date, idempotency_key,
                                        reason)
            target = self._carry_over_target(fund, carry_to) if carry_to else None
            changed: list[Aggregate] = [fund]
            lapsed = carried = 0
            next_year_stamp = Stamp(actor.user_id, role.value, date(fund.fiscal_year + 1, 1, 1),
                                    idempotency_key, reason)
            for allocation_id in fund.allocation_ids:
                allocation = self._load(allocation_id)
                if not allocation.is_open:
                    continue
                carry_id = uuid5(NAMESPACE_URL, f"fundledger:carry:{allocation.id}")
                remainder = allocation.remaining if allocation.status == "approved" else 0
                if target is not None and remainder > 0:
                    # The carried remainder becomes an allocation of the target fund, so the
                    # target's earmark and level rules hold for it as for any other.
                    self._check_fund_rules(target, self._load(allocation.school_id),
                                           next_year_stamp.effective_date)
                    allocation.close_year(disposition, carry_id, stamp)
                    carried += remainder
                    successor = Allocation.open_by_carry_over(
                        carry_id, **_allocation_fields(target, allocation.school_id,
                                                       allocation.school_code,
                                                       allocation.purpose, remainder),
                        stamp=next_year_stamp)
                    changed.append(successor)
                else:
                    lapsed += allocation.close_year("lapse", None, stamp)
                changed.append(allocation)
            fund.close(disposition, lapsed, carried, carry_to, stamp)
            if target is not None and carried > 0:
                target.carry_in(fund.code, carried, next_year_stamp)
                for successor in changed:
                    if isinstance(successor, Allocation) and successor.fund_id == target.id:
                        target.commit(successor.id, successor.allocated, next_year_stamp)
                changed.append(target)
            return _Decision([fund], changed)

        return self._run(actor, "close_fund", params, idempotency_key, decide)

    # ------------------------------------------------------------- allocations

    def propose_allocation(
        self, actor: Actor, *, fund: str, school: str, amount: int, purpose: str,
        effective_date: date | None = None, unit: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        role = actor.acting_as(Role.OFFICER)
        amount = check_amount(amount)
        purpose = check_text(purpose, "purpose", DESCRIPTION_LENGTH_MAX)
        params = {"fund": fund, "school": school, "amount": amount, "purpose": purpose,
                  "effective_date": effective_date, "unit": unit}

        def decide() -> _Decision:
            fund_ = self._fund(fund)
            fund_.check_open()
            _check_unit(unit, fund_.unit)
            school_ = self._school(school)
            stamp = self._stamp_in_year(actor, role, fund_, effective_date, idempotency_key)
            self._check_school_eligible(fund_, school_, stamp.effective_date)
            fund_.check_can_commit(amount)
            allocation_id = (id_from_key("allocation", actor.user_id, idempotency_key)
                             if idempotency_key else uuid4())
            allocation = Allocation.propose(
                allocation_id, **_allocation_fields(fund_, school_.id, school_.code, purpose,
                                                    amount), stamp=stamp)
            return _Decision([allocation], [allocation])

        return self._run(actor, "propose_allocation", params, idempotency_key, decide)

    def approve_allocation(
        self, actor: Actor, allocation_id: UUID, *, reason: str = "",
        effective_date: date | None = None, expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        role = actor.acting_as(Role.APPROVER)
        reason = check_text(reason, "reason", REASON_LENGTH_MAX, required=False)
        params = {"allocation": str(allocation_id), "reason": reason,
                  "effective_date": effective_date}

        def decide() -> _Decision:
            allocation = self._allocation(allocation_id, expected_version)
            fund = self._load(allocation.fund_id)
            stamp = self._stamp_in_year(actor, role, fund, effective_date, idempotency_key,
                                        reason)
            if stamp.effective_date < allocation.effective_date:
                msg = (f"approval date {stamp.effective_date} is before the proposal's "
                       f"effective date {allocation.effective_date}")
                raise InvalidInput(msg)
            allocation.approve(stamp)
            fund.commit(allocation.id, allocation.allocated, stamp)
            return _Decision([allocation], [allocation, fund])

        return self._run(actor, "approve_allocation", params, idempotency_key, decide)

    def reject_allocation(
        self, actor: Actor, allocation_id: UUID, *, reason: str,
        effective_date: date | None = None, expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        role = actor.acting_as(Role.APPROVER)
        reason = check_text(reason, "reason", REASON_LENGTH_MAX)
        params = {"allocation": str(allocation_id), "reason": reason,
                  "effective_date": effective_date}

        def decide() -> _Decision:
            allocation = self._allocation(allocation_id, expected_version)
            fund = self._load(allocation.fund_id)
            allocation.reject(self._stamp_in_year(actor, role, fund, effective_date,
                                                  idempotency_key, reason))
            return _Decision([allocation], [allocation])

        return self._run(actor, "reject_allocation", params, idempotency_key, decide)

    def adjust_allocation(
        self, actor: Actor, allocation_id: UUID, *, delta: int, reason: str,
        effective_date: date | None = None, expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        role = actor.acting_as(Role.APPROVER)
        delta = check_delta(delta)
        reason = check_text(reason, "reason", REASON_LENGTH_MAX)
        params = {"allocation": str(allocation_id), "delta": delta, "reason": reason,
                  "effective_date": effective_date}

        def decide() -> _Decision:
            allocation = self._allocation(allocation_id, expected_version)
            fund = self._load(allocation.fund_id)
            stamp = self._stamp_in_year(actor, role, fund, effective_date, idempotency_key,
                                        reason)
            allocation.adjust(delta, stamp)
            if delta > 0:
                fund.commit(allocation.id, delta, stamp)
            else:
                fund.release(allocation.id, -delta, stamp)
            return _Decision([allocation], [allocation, fund])

        return self._run(actor, "adjust_allocation", params, idempotency_key, decide)

    def cancel_allocation(
        self, actor: Actor, allocation_id: UUID, *, reason: str,
        effective_date: date | None = None, expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Cancels an allocation; its unspent remainder goes back to the fund."""
        role = actor.acting_as(Role.OFFICER)
        reason = check_text(reason, "reason", REASON_LENGTH_MAX)
        params = {"allocation": str(allocation_id), "reason": reason,
                  "effective_date": effective_date}

        def decide() -> _Decision:
            allocation = self._allocation(allocation_id, expected_version)
            fund = self._load(allocation.fund_id)
            stamp = self._stamp_in_year(actor, role, fund, effective_date, idempotency_key,
                                        reason)
            released = allocation.cancel(stamp)
            if released > 0:
                fund.release(allocation.id, released, stamp)
            return _Decision([allocation], [allocation, fund])

        return self._run(actor, "cancel_allocation", params, idempotency_key, decide)

    def transfer_allocation(
        self, actor: Actor, allocation_id: UUID, *, amount: int, reason: str,
        to_school: str | None = None, to_allocation: UUID | None = None,
        effective_date: date | None = None, expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Moves part of the unspent remainder to another allocation of the same fund:
        an existing one, or a new one for another school. One atomic operation."""
        role = actor.acting_as(Role.OFFICER)
        amount = check_amount(amount)
        reason = check_text(reason, "reason", REASON_LENGTH_MAX)
        if (to_school is None) == (to_allocation is None):
            msg = "name exactly one of to_school and to_allocation"
            raise InvalidInput(msg)
        params = {"allocation": str(allocation_id), "amount": amount, "reason": reason,
                  "to_school": to_school, "to_allocation": str(to_allocation),
                  "effective_date": effective_date}

        def decide() -> _Decision:
            source = self._allocation(allocation_id, expected_version)
            fund = self._load(source.fund_id)
            fund.check_open()
            stamp = self._stamp_in_year(actor, role, fund, effective_date, idempotency_key,
                                        reason)
            changed: list[Aggregate] = [source]
            if to_allocation is not None:
                target = self._allocation(to_allocation)
                if target.id == source.id or target.fund_id != source.fund_id:
                    msg = "a transfer goes to another allocation of the same fund"
                    raise TransferNotAllowed(msg)
                source.transfer_out(target.id, amount, stamp)
                target.transfer_in(source.id, amount, stamp)
            else:
                assert to_school is not None
                school = self._school(to_school)
                self._check_school_eligible(fund, school, stamp.effective_date)
                target_id = (id_from_key("allocation", actor.user_id, idempotency_key)
                             if idempotency_key else uuid4())
                source.transfer_out(target_id, amount, stamp)
                target = Allocation.open_by_transfer(
                    target_id, **_allocation_fields(fund, school.id, school.code,
                                                    source.purpose, amount), stamp=stamp)
                # The fund learns of the new allocation so that year-end close reaches it.
                fund.commit(target.id, 0, stamp)
                changed.append(fund)
            changed.append(target)
            return _Decision([source, target], changed)

        return self._run(actor, "transfer_allocation", params, idempotency_key, decide)

    # ------------------------------------------------------------ expenditures

    def record_expenditure(
        self, actor: Actor, *, allocation: UUID, amount: int, payee: str, voucher: str,
        spent_on: date, description: str = "", economic_class: str | None = None,
        unit: str | None = None, idempotency_key: str | None = None,
    ) -> Outcome:
        role = actor.acting_as(Role.OFFICER)
        amount = check_amount(amount)
        payee = check_text(payee, "payee", PAYEE_LENGTH_MAX)
        voucher = check_code(voucher, "voucher", VOUCHER_LENGTH_MAX)
        description = check_text(description, "description", DESCRIPTION_LENGTH_MAX,
                                  required=False)
        if economic_class is not None:
            economic_class = check_choice(economic_class, ExpenditureClass,
                                          "economic class").value
        check_not_future(spent_on, self.today(), "spent_on")
        params = {"allocation": str(allocation), "amount": amount, "payee": payee,
                  "voucher": voucher, "spent_on": spent_on, "description": description,
                  "economic_class": economic_class, "unit": unit}

        def decide() -> _Decision:
            allocation_ = self._allocation(allocation)
            _check_unit(unit, allocation_.unit)
            if spent_on.year != allocation_.fiscal_year:
                msg = f"spent_on {spent_on} is outside fiscal year {allocation_.fiscal_year}"
                raise DateOutsideFiscalYear(msg)
            class_ = economic_class or DEFAULT_CLASS[Category(allocation_.category)].value
            if class_ not in allocation_.expenditure_classes:
                allowed = ", ".join(allocation_.expenditure_classes)
                msg = f"fund {allocation_.fund_code} may pay for {allowed}; not {class_}"
                raise ExpenditureClassNotAllowed(msg)
            stamp = Stamp(actor.user_id, role.value, spent_on, idempotency_key)
            expenditure_id = (id_from_key("expenditure", actor.user_id, idempotency_key)
                              if idempotency_key else uuid4())
            allocation_.spend(expenditure_id, amount, spent_on, stamp)
            register = self._claim_voucher(allocation_, voucher, expenditure_id)
            expenditure = Expenditure(
                id=expenditure_id, allocation_id=allocation_.id, fund_code=allocation_.fund_code,
                school_code=allocation_.school_code, fiscal_year=allocation_.fiscal_year,
                unit=allocation_.unit, amount=amount, payee=payee, voucher=voucher,
                spent_on=spent_on, description=description, economic_class=class_,
                stamp=stamp)
            return _Decision([expenditure], [expenditure, allocation_, register])

        return self._run(actor, "record_expenditure", params, idempotency_key, decide)

    def reverse_expenditure(
        self, actor: Actor, expenditure_id: UUID, *, reason: str,
        effective_date: date | None = None, expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Reverses a recorded expenditure; the allocation's remainder is restored."""
        role = actor.acting_as(Role.OFFICER)
        reason = check_text(reason, "reason", REASON_LENGTH_MAX)
        params = {"expenditure": str(expenditure_id), "reason": reason,
                  "effective_date": effective_date}

        def decide() -> _Decision:
            expenditure = self._get(Expenditure, expenditure_id, ExpenditureNotFound,
                                    f"expenditure {expenditure_id}")
            _check_version(expenditure, expected_version)
            allocation = self._load(expenditure.allocation_id)
            day = effective_date or max(expenditure.spent_on, self.today())
            check_not_future(day, self.today(), "effective_date")
            if day < expenditure.spent_on:
                msg = ("a reversal cannot take effect before the spending it reverses "
                       f"({expenditure.spent_on})")
                raise InvalidInput(msg)
            stamp = Stamp(actor.user_id, role.value, day, idempotency_key, reason)
            expenditure.reverse(stamp)
            allocation.restore(expenditure.id, expenditure.amount, stamp)
            register = self._load(VoucherNumber.id_for(
                expenditure.school_code, expenditure.fiscal_year, expenditure.voucher))
            register.free()
            return _Decision([expenditure], [expenditure, allocation, register])

        return self._run(actor, "reverse_expenditure", params, idempotency_key, decide)

    # ------------------------------------------------------------------ access

    def add_user(self, name: str, roles: Iterable[str]) -> str:
        """Adds a user (or gives an existing one new roles) and issues a token, shown only here."""
        name = check_code(name, "user name", CODE_LENGTH_MAX)
        roles_ = sorted({check_choice(r, Role, "role").value for r in roles})
        if not roles_:
            msg = "a user needs at least one role"
            raise InvalidInput(msg)
        token = new_token()
        hash_hex = token_hash(token)
        access = AccessToken(id=AccessToken.id_for_hash(hash_hex), user_name=name,
                             roles=roles_, hash_hex=hash_hex)
        user = self._find(UserAccount, UserAccount.id_for(name))
        if user is None:
            user = UserAccount(name=name, roles=roles_)
        elif user.roles != roles_:
            user.set_roles(roles_)
        user.issue_token(access.id)
        self.save(user, access)
        return token

    def revoke_user(self, name: str) -> int:
        """Revokes every token of a user at once; returns how many were revoked."""
        user = self._get(UserAccount, UserAccount.id_for(name), UserNotFound, f"user {name}")
        tokens = [self.repository.get(token_id) for token_id in user.token_ids]
        for access in tokens:
            access.revoke()
        user.revoke_tokens()
        self.save(user, *tokens)
        return len(tokens)

    def authenticate(self, token: str) -> Actor:
        access = self._find(AccessToken, AccessToken.id_for_hash(token_hash(token)))
        if access is None or access.revoked or not access.matches(token):
            msg = "unknown or revoked token"
            raise UnknownToken(msg)
        return Actor(access.user_name, frozenset(Role(r) for r in access.roles))

    # ------------------------------------------------------------------- reads

    def get_school(self, code: str) -> School:
        return self._school(code)

    def get_fund(self, code: str) -> Fund:
        return self._fund(code)

    def get_allocation(self, allocation_id: UUID) -> Allocation:
        return self._allocation(allocation_id)

    def get_expenditure(self, expenditure_id: UUID) -> Expenditure:
        return self._get(Expenditure, expenditure_id, ExpenditureNotFound,
                         f"expenditure {expenditure_id}")

    def last_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    # --------------------------------------------------------------- machinery

    def _run(self, actor: Actor, command: str, params: dict[str, Any],
             idempotency_key: str | None, decide: Callable[[], _Decision]) -> Outcome:
        """Decides and saves atomically; retries on a concurrent write, bounded."""
        record_id = None
        if idempotency_key is not None:
            idempotency_key = check_text(idempotency_key, "idempotency key",
                                         IDEMPOTENCY_KEY_LENGTH_MAX)
            record_id = IdempotencyRecord.id_for(actor.user_id, idempotency_key)
        fingerprint = _fingerprint(params)
        batch = _current_batch.get()
        if batch is not None:
            return self._run_in_batch(batch, command, fingerprint, record_id, decide)
        for attempt in range(COMMAND_ATTEMPTS_MAX):
            if record_id is not None:
                record = self._find(IdempotencyRecord, record_id)
                if record is not None:
                    return self._replay(record, command, fingerprint)
            try:
                decision = decide()
            except LedgerError:
                # A twin of this request with the same key may have saved between the look
                # above and decide(), which then sees its effect (voucher taken, allocation
                # approved…): that is a repeat to answer, not a refusal.
                record = self._find(IdempotencyRecord, record_id) if record_id else None
                if record is not None:
                    return self._replay(record, command, fingerprint)
                raise
            changed = list(decision.changed)
            if record_id is not None:
                record = IdempotencyRecord(
                    id=record_id, command=command, fingerprint=fingerprint,
                    results=[(s.id, s.version) for s in decision.subjects])
                changed.append(record)
            try:
                recordings = self.save(*changed)
            except IntegrityError:
                self._forget_recent()
                time.sleep(random.uniform(0, COMMAND_RETRY_WAIT_SECONDS_MAX) * (attempt + 1))  # noqa: S311
                continue
            self._remember(changed)
            return Outcome(decision.subjects, recordings[-1].notification.id)
        msg = f"{command} met concurrent updates {COMMAND_ATTEMPTS_MAX} times; retry the request"
        raise ConcurrencyConflict(msg)

    def _replay(self, record: IdempotencyRecord, command: str, fingerprint: str) -> Outcome:
        record.check_same_request(command, fingerprint)
        batch = _current_batch.get()
        subjects = [
            batch.aggregates[UUID(str(i))] if batch and UUID(str(i)) in batch.aggregates
            else self.repository.get(UUID(str(i)), version=v)
            for i, v in record.results
        ]
        return Outcome(subjects, self.last_position(), replayed=True)

    # ------------------------------------------------------------- batches

    @contextmanager
    def batch(self, *, optimistic: bool = False) -> Iterator[Batch]:
        """Commands taken inside apply one after another to in-memory aggregates, so each
        sees the ones before it, and are saved together in one atomic write at the end.

        A refused command raises as usual and leaves the batch as it was before it; the
        caller decides whether to go on. If the block raises, nothing is written. If the
        final save meets a concurrent write, nothing is written and ConcurrencyConflict
        is raised: the caller may run the batch again.
        """
        if _current_batch.get() is not None:
            msg = "batches do not nest"
            raise RuntimeError(msg)
        batch = Batch(optimistic=optimistic)
        token = _current_batch.set(batch)
        try:
            yield batch
        finally:
            _current_batch.reset(token)
        self._save_batch(batch)

    def _run_in_batch(self, batch: Batch, command: str, fingerprint: str,
                      record_id: UUID | None, decide: Callable[[], _Decision]) -> Outcome:
        working: dict[UUID, Aggregate] = {}
        token = _working_set.set(working)
        try:
            if record_id is not None:
                record = self._find(IdempotencyRecord, record_id)
                if record is not None:
                    return self._replay(record, command, fingerprint)
            try:
                decision = decide()
            except LedgerError:
                # As in _run: an earlier request with this key, whose answer was lost, may
                # have saved; decide() then meets its effect (school registered, allocation
                # approved…). The optimistic look above assumed no record: read the store.
                record = self._stored_record(record_id) if record_id is not None else None
                if record is not None:
                    return self._replay(record, command, fingerprint)
                raise
            changed = list(decision.changed)
            if record_id is not None:
                changed.append(IdempotencyRecord(
                    id=record_id, command=command, fingerprint=fingerprint,
                    results=[(s.id, s.version) for s in decision.subjects]))
        finally:
            _working_set.reset(token)
        events = [e for aggregate in changed for e in aggregate.collect_events()]
        for aggregate in changed:
            batch.aggregates[aggregate.id] = aggregate
        batch.events.extend(events)
        outcome = Outcome(decision.subjects, 0)
        if events:
            batch.tickets.append((outcome, events[-1].originator_id, events[-1].originator_version))
        return outcome

    def _stored_record(self, record_id: UUID) -> IdempotencyRecord | None:
        """The idempotency record as the store holds it, whatever the batch assumed."""
        try:
            record = self.repository.get(record_id)
        except AggregateNotFoundError:
            return None
        return record if isinstance(record, IdempotencyRecord) else None

    def _save_batch(self, batch: Batch) -> None:
        if not batch.events:
            return
        try:
            # Events first, in the order the commands raised them; then the aggregates
            # themselves (now without pending events) so that snapshots can be taken.
            recordings = self.save(*batch.events, *batch.aggregates.values())
        except IntegrityError:
            self._forget_recent()
            msg = "a concurrent write touched this batch's aggregates; nothing was written"
            raise ConcurrencyConflict(msg) from None
        self._remember(batch.aggregates.values())
        positions = {(r.domain_event.originator_id, r.domain_event.originator_version):
                     r.notification.id for r in recordings}
        for outcome, originator_id, version in batch.tickets:
            outcome.position = positions[(originator_id, version)]
        batch.position = recordings[-1].notification.id

    def _load(self, aggregate_id: UUID, kind: type[Aggregate] | None = None) -> Any:
        """Reads an aggregate; inside a batch, as the batch's earlier commands left it."""
        working = _working_set.get()
        if working is None:
            return self._read(aggregate_id, kind)
        if aggregate_id not in working:
            batch = _current_batch.get()
            assert batch is not None
            known = batch.aggregates.get(aggregate_id) or self._recall(aggregate_id)
            if known is not None:
                # A copy, so that a refused command leaves the batch's state untouched.
                working[aggregate_id] = _working_copy(known)
            elif batch.optimistic and _optimistic_kind.get():
                raise AggregateNotFoundError(aggregate_id)
            else:
                working[aggregate_id] = self._read(aggregate_id, kind)
        return working[aggregate_id]

    def _read(self, aggregate_id: UUID, kind: type[Aggregate] | None) -> Any:
        """Reads an aggregate from the store. A kind that is never snapshotted (a token, a
        voucher number, an expenditure) is read in one query: the library first asks the
        snapshot table, a second round trip on every request's token check."""
        if kind is None or kind in self.snapshotting_intervals:
            return self.repository.get(aggregate_id)
        aggregate = project_aggregate(None, self.events.get(aggregate_id))
        if aggregate is None:
            raise AggregateNotFoundError(aggregate_id)
        return aggregate

    def _remember(self, aggregates: Iterable[Aggregate]) -> None:
        with self._recent_lock:
            for aggregate in aggregates:
                self._recent[aggregate.id] = aggregate
                self._recent.move_to_end(aggregate.id)
            while len(self._recent) > RECENT_AGGREGATES_MAX:
                self._recent.popitem(last=False)

    def _recall(self, aggregate_id: UUID) -> Aggregate | None:
        with self._recent_lock:
            return self._recent.get(aggregate_id)

    def _forget_recent(self) -> None:
        with self._recent_lock:
            self._recent.clear()

    def _stamp(self, actor: Actor, role: Role, effective_date: date | None,
               idempotency_key: str | None, reason: str = "") -> Stamp:
        today = self.today()
        day = check_not_future(effective_date or today, today, "effective_date")
        return Stamp(actor.user_id, role.value, day, idempotency_key, reason)

    def _stamp_in_year(self, actor: Actor, role: Role, fund: Fund,
                       effective_date: date | None, idempotency_key: str | None,
                       reason: str = "") -> Stamp:
        """Defaults the business date to today, or to the last day of a past fiscal year."""
        today = self.today()
        day = effective_date or min(today, date(fund.fiscal_year, 12, 31))
        check_not_future(day, today, "effective_date")
        fund.check_in_fiscal_year(day, "effective_date")
        return Stamp(actor.user_id, role.value, day, idempotency_key, reason)

    def _check_school_eligible(self, fund: Fund, school: School, day: date) -> None:
        if school.closed_on is not None and school.closed_on <= day:
            msg = f"school {school.code} closed on {school.closed_on}"
            raise SchoolClosed(msg)
        self._check_fund_rules(fund, school, day)

    @staticmethod
    def _check_fund_rules(fund: Fund, school: School, day: date) -> None:
        """A rural-support fund goes only to town, rural or poverty-area schools (as they
        were classified on `day`); a fund restricted to levels only to schools of those levels."""
        if fund.earmark == Earmark.RURAL_SUPPORT and not school.is_rural_support_eligible_on(day):
            msg = (f"fund {fund.code} is earmarked for rural support; school {school.code} is "
                   f"{school.locale_on(day)} and not in a poverty area on {day}")
            raise EarmarkViolation(msg)
        if fund.levels and school.level not in fund.levels:
            msg = f"fund {fund.code} is for {', '.join(fund.levels)} schools; {school.code} is {school.level}"
            raise LevelNotEligible(msg)

    def _carry_over_target(self, fund: Fund, carry_to: str) -> Fund:
        target = self._fund(carry_to)
        if target.fiscal_year != fund.fiscal_year + 1 or target.unit != fund.unit or target.closed:
            msg = (f"fund {carry_to} ({target.fiscal_year}, {target.unit}) cannot receive "
                   f"{fund.code}'s carry-over; it must be an open {fund.fiscal_year + 1} "
                   f"fund in {fund.unit}")
            raise CarryOverTargetInvalid(msg)
        return target

    def _claim_voucher(self, allocation: Allocation, voucher: str,
                       expenditure_id: UUID) -> VoucherNumber:
        register_id = VoucherNumber.id_for(allocation.school_code, allocation.fiscal_year, voucher)
        register = self._find(VoucherNumber, register_id)
        if register is None:
            return VoucherNumber(school_code=allocation.school_code,
                                 fiscal_year=allocation.fiscal_year, voucher=voucher,
                                 expenditure_id=expenditure_id)
        register.claim_again(expenditure_id)
        return register

    def _school(self, code: str, expected_version: int | None = None) -> School:
        school = self._get(School, School.id_for(code), SchoolNotFound, f"school {code}")
        _check_version(school, expected_version)
        return school

    def _fund(self, code: str, expected_version: int | None = None) -> Fund:
        fund = self._get(Fund, Fund.id_for(code), FundNotFound, f"fund {code}")
        _check_version(fund, expected_version)
        return fund

    def _allocation(self, allocation_id: UUID, expected_version: int | None = None) -> Allocation:
        allocation = self._get(Allocation, allocation_id, AllocationNotFound,
                               f"allocation {allocation_id}")
        _check_version(allocation, expected_version)
        return allocation

    def _get(self, kind: type[A], aggregate_id: UUID, error: type[LedgerError],
             what: str) -> A:
        found = self._find(kind, aggregate_id)
        if found is None:
            msg = f"{what} not found"
            raise error(msg)
        return found

    def _find(self, kind: type[A], aggregate_id: UUID) -> A | None:
        if kind in (VoucherNumber, IdempotencyRecord):
            _optimistic_kind.set(True)
        try:
            aggregate = self._load(aggregate_id, kind)
        except AggregateNotFoundError:
            return None
        finally:
            _optimistic_kind.set(False)
        # An id of another kind is as good as unknown (e.g. a fund's id passed as an allocation).
        return aggregate if isinstance(aggregate, kind) else None


def _working_copy(aggregate: A) -> A:
    """A copy that a command may change without touching the original.

    Aggregates hold scalars, immutable values (UUIDs, dates, tuples) and lists, dicts or sets
    of them, so copying the containers one level deep is enough. A deep copy did the same and
    cost a third of a bulk import's time: a fund holds the ids of all its allocations.
    """
    duplicate = copy.copy(aggregate)
    for name, value in vars(duplicate).items():
        if isinstance(value, list | dict | set):
            setattr(duplicate, name, value.copy())
    return duplicate


def _allocation_fields(fund: Fund, school_id: UUID, school_code: str, purpose: str,
                       amount: int) -> dict[str, Any]:
    return {"fund_id": fund.id, "fund_code": fund.code, "school_id": school_id,
            "school_code": school_code, "fiscal_year": fund.fiscal_year, "unit": fund.unit,
            "category": fund.category, "expenditure_classes": list(fund.expenditure_classes),
            "purpose": purpose, "amount": amount}


def _check_version(aggregate: Aggregate, expected_version: int | None) -> None:
    if expected_version is not None and aggregate.version != expected_version:
        msg = f"version is {aggregate.version}, not {expected_version}"
        raise VersionMismatch(msg)


def _check_unit(given: str | None, expected: str) -> None:
    if given is not None and given != expected:
        msg = f"the fund is in {expected}, not {given}"
        raise UnitMismatch(msg)


def _check_students(students: int) -> int:
    if type(students) is not int or not 0 <= students <= STUDENTS_MAX:
        msg = f"students must be a whole number between 0 and {STUDENTS_MAX}"
        raise InvalidInput(msg)
    return students


def _check_fiscal_year(fiscal_year: int) -> int:
    if type(fiscal_year) is not int or not FISCAL_YEAR_MIN <= fiscal_year <= FISCAL_YEAR_MAX:
        msg = f"fiscal_year must be a year between {FISCAL_YEAR_MIN} and {FISCAL_YEAR_MAX}"
        raise InvalidInput(msg)
    return fiscal_year


def _fingerprint(params: dict[str, Any]) -> str:
    """The request's content, canonically: a repeat of a key must carry the same content."""
    canonical = json.dumps(params, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
