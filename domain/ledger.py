"""The bureau's ledger: one method per command of the finance office, and its reads.

Each command checks its plain input, then decides: it loads the aggregates it needs and lets
them apply their own rules. Saving, retrying on a concurrent write, idempotency keys and
batches are the generic machinery of `domain.application.CommandApplication`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from domain.actors import Actor, Role
from domain.allocating import AllocationCommands
from domain.change import ChangeContext, register_change_kind
from domain.classification import (
    DEFAULT_CLASSES,
    Category,
    Earmark,
    ExpenditureClass,
    Level,
    Locale,
    Source,
)
from domain.clock import BUREAU_TIMEZONE, bureau_today
from domain.dispositions import check_operating_classes
from domain.errors import FundAlreadyOpened, SchoolAlreadyRegistered
from domain.fund import Fund
from domain.limits import (
    CODE_LENGTH_MAX,
    FISCAL_YEAR_MAX,
    FISCAL_YEAR_MIN,
    NAME_LENGTH_MAX,
    STUDENTS_MAX,
)
from domain.periods import PERIOD_CLOSE, PeriodCommands
from domain.prior_year import PRIOR_YEAR_ADJUSTMENT, PriorYearCommands
from domain.provenance import check_provenance
from domain.resource_commands import ResourceCommands
from domain.rules import check_choice, check_code, check_not_future, check_text, check_whole, reason_text
from domain.school import School
from domain.unit_of_work import Batch, Decision, Outcome, working_copy
from domain.units import check_amount, check_delta, unit_of
from domain.year_end_close import YearEndCommands

# Names other modules import from here.
# The two-person changes registered here (domain/change.py); stable names, stored.
FUND_ADJUST = "fund_adjust"
FUND_CLOSE = "fund_close"
YEAR_CLOSE = "year_close"

__all__ = ["BUREAU_TIMEZONE", "Batch", "FundLedger", "Outcome", "bureau_today", "working_copy"]
_working_copy = working_copy  # tests/domain/test_batch_copies.py


class FundLedger(PeriodCommands, YearEndCommands, PriorYearCommands, AllocationCommands, ResourceCommands):
    """Schools, funds, allocations and expenditures of one education bureau: the commands on
    schools and funds are here, those on allocations and spending in domain/allocating.py,
    on resource stocks (posts, assets, indicator reports) in domain/resource_commands.py,
    access and reads in domain/bureau.py."""

    name = "FundLedger"

    # ----------------------------------------------------------------- schools

    def register_school(
        self, actor: Actor, *, code: str, name: str, district: str, level: str,
        locale: str, poverty_area: bool, students: int,
        effective_date: date | None = None, idempotency_key: str | None = None,
    ) -> Outcome:
        role = actor.acting_as(Role.OFFICER)
        fields = {"code": check_code(code, "school code", CODE_LENGTH_MAX),
                  "name": check_text(name, "name", NAME_LENGTH_MAX),
                  "district": check_text(district, "district", NAME_LENGTH_MAX),
                  "level": check_choice(level, Level, "level").value,
                  "locale": check_choice(locale, Locale, "locale").value,
                  "poverty_area": bool(poverty_area),
                  "students": check_whole(students, "students", 0, STUDENTS_MAX)}

        def decide() -> Decision:
            if self.find(School, School.id_for(fields["code"])) is not None:
                msg = f"school {fields['code']} is already registered"
                raise SchoolAlreadyRegistered(msg, f"学校代码 {fields['code']} 已登记")
            stamp = self.stamp(actor, role, effective_date, idempotency_key)
            return Decision([School(**fields, stamp=stamp)])

        return self.run(actor, "register_school", {**fields, "effective_date": effective_date},
                        idempotency_key, decide)

    def reclassify_school(
        self, actor: Actor, code: str, *, locale: str, reason: str,
        effective_date: date | None = None, expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        role = actor.acting_as(Role.OFFICER)
        locale = check_choice(locale, Locale, "locale").value
        reason = reason_text(reason)

        def decide() -> Decision:
            school = self._school(code, expected_version)
            school.reclassify(locale, self.stamp(actor, role, effective_date, idempotency_key,
                                                 reason))
            return Decision([school])

        return self.run(actor, "reclassify_school", {
            "code": code, "locale": locale, "reason": reason, "effective_date": effective_date,
        }, idempotency_key, decide)

    def report_enrolment(
        self, actor: Actor, code: str, *, students: int, effective_date: date | None = None,
        reason: str = "", boarders: int | None = None, special_needs: int | None = None,
        expected_version: int | None = None, idempotency_key: str | None = None,
    ) -> Outcome:
        role = actor.acting_as(Role.OFFICER)
        students = check_whole(students, "students", 0, STUDENTS_MAX)
        boarders = None if boarders is None else check_whole(boarders, "boarders", 0, STUDENTS_MAX)
        special_needs = (None if special_needs is None
                         else check_whole(special_needs, "special_needs", 0, STUDENTS_MAX))
        reason = reason_text(reason, required=False)
        params = {"code": code, "students": students, "effective_date": effective_date,
                  "reason": reason}
        if boarders is not None or special_needs is not None:
            params.update(boarders=boarders, special_needs=special_needs)

        def decide() -> Decision:
            school = self._school(code, expected_version)
            school.report_enrolment(students, self.stamp(actor, role, effective_date,
                                                         idempotency_key, reason),
                                    boarders=boarders, special_needs=special_needs)
            return Decision([school])

        return self.run(actor, "report_enrolment", params, idempotency_key, decide)

    def close_school(
        self, actor: Actor, code: str, *, reason: str, effective_date: date | None = None,
        expected_version: int | None = None, idempotency_key: str | None = None,
    ) -> Outcome:
        role = actor.acting_as(Role.OFFICER)
        reason = reason_text(reason)

        def decide() -> Decision:
            school = self._school(code, expected_version)
            school.close(self.stamp(actor, role, effective_date, idempotency_key, reason))
            return Decision([school])

        return self.run(actor, "close_school", {
            "code": code, "reason": reason, "effective_date": effective_date,
        }, idempotency_key, decide)

    # ------------------------------------------------------------------- funds

    def open_fund(
        self, actor: Actor, *, code: str, name: str, fiscal_year: int, unit: str,
        amount: int, source: str, category: str, earmark: str = Earmark.NONE.value,
        levels: Sequence[str] = (), expenditure_classes: Sequence[str] = (),
        function_code: str | None = None, doc_no: str = "", issuing_level: str | None = None,
        received_on: date | None = None, shares: Sequence[Any] = (),
        effective_date: date | None = None, idempotency_key: str | None = None,
    ) -> Outcome:
        """Opens a fund with its 政府收支分类 functional code (default: its level's, see
        domain/budget_codes) and provenance: 文号, issuing level, date received and, where
        several levels pay into it, each level's share (domain/provenance.py)."""
        role = actor.acting_as(Role.OFFICER)
        category_ = check_choice(category, Category, "category")
        fields = {
            "code": check_code(code, "fund code", CODE_LENGTH_MAX),
            "name": check_text(name, "name", NAME_LENGTH_MAX),
            "fiscal_year": check_whole(fiscal_year, "fiscal_year", FISCAL_YEAR_MIN, FISCAL_YEAR_MAX),
            "unit": unit_of(unit).code,
            "amount": check_amount(amount), "source": check_choice(source, Source, "source").value,
            "category": category_.value, "earmark": check_choice(earmark, Earmark, "earmark").value,
            "levels": sorted({check_choice(v, Level, "level").value for v in levels}),
        }
        classes = [check_choice(v, ExpenditureClass, "expenditure class").value
                   for v in expenditure_classes] or [c.value for c in DEFAULT_CLASSES[category_]]
        check_operating_classes(category_.value, classes)
        fields |= check_provenance(
            source=fields["source"], category=fields["category"], levels=fields["levels"],
            amount=fields["amount"], function_code=function_code, doc_no=doc_no,
            issuing_level=issuing_level, received_on=received_on, shares=shares)
        if received_on is not None:
            check_not_future(received_on, self.today(), "received_on")

        def decide() -> Decision:
            if self.find(Fund, Fund.id_for(fields["code"])) is not None:
                msg = f"fund {fields['code']} is already open"
                raise FundAlreadyOpened(msg, f"资金代码 {fields['code']} 已设立")
            return Decision([Fund(**fields, expenditure_classes=classes,
                                  stamp=self.stamp(actor, role, effective_date, idempotency_key))])

        return self.run(actor, "open_fund", {
            **fields, "classes": classes, "effective_date": effective_date,
        }, idempotency_key, decide)

    def adjust_fund(
        self, actor: Actor, code: str, *, delta: int, reason: str,
        effective_date: date | None = None, expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Asks for the appropriation to change by `delta`: a two-person change."""
        role = actor.acting_as(Role.APPROVER)
        params = {"code": code, "delta": check_delta(delta), "reason": reason_text(reason),
                  "effective_date": effective_date}
        return self.propose_change(actor, role, FUND_ADJUST, params, idempotency_key,
                                   check=lambda: self._fund(code, expected_version))

    def _apply_adjust_fund(self, context: ChangeContext, params: dict[str, Any]) -> Decision:
        fund = self._fund(params["code"])
        fund.adjust_appropriation(params["delta"], self._change_stamp(context, fund, params))
        return Decision([fund])


register_change_kind(FUND_ADJUST, FundLedger._apply_adjust_fund, "Change a fund's appropriation")
register_change_kind(FUND_CLOSE, FundLedger.apply_close_fund,
                     "Close a fund's year: each remainder carried over (结转) or recovered (结余)",
                     try_reusable=True)
register_change_kind(YEAR_CLOSE, FundLedger.apply_close_year,
                     "Close a fiscal year: every money fund, all or nothing", try_reusable=True)
register_change_kind(PRIOR_YEAR_ADJUSTMENT, FundLedger.apply_prior_year_adjustment,
                     "Reverse a closed year's expenditure as a prior-year adjustment (以前年度盈余调整)")
register_change_kind(PERIOD_CLOSE, FundLedger.apply_close_period,
                     "Close a month for the bureau: nothing may be dated in it any more")
