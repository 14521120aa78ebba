"""Prior-year adjustments (以前年度盈余调整): spending of a closed year reversed afterwards.

A closed year is not reopened: the allocation stays closed and its spending as it was closed.
The reversed amount is added to the recovered surplus of that fiscal year and the fund's
source level, as the prior-year adjustment the government accounting system books it as
(reference/domain.md §1.6, period close; account 3501 in public code [C6]). The expenditure is
marked reversed and its voucher number freed.

It moves approved money, so it is a two-person change (domain/change.py, kind
`prior_year_adjustment`): an officer asks for it, another person (an approver) applies it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from domain.actors import Actor, Role
from domain.allocation import Status
from domain.change import ChangeContext
from domain.errors import AllocationClosed, ExpenditureNotFound, InvalidInput
from domain.expenditure import Expenditure
from domain.rules import check_not_future, reason_text
from domain.surplus import RecoveredSurplus
from domain.unit_of_work import Decision

PRIOR_YEAR_ADJUSTMENT = "prior_year_adjustment"  # the change kind's stored name


class PriorYearCommands:
    """The prior-year adjustment command of `FundLedger` (a mixin over its machinery)."""

    propose_change: Callable[..., Any]
    load: Callable[..., Any]
    require: Callable[..., Any]
    find: Callable[..., Any]
    today: Callable[[], date]
    _free_voucher: Callable[[Expenditure], Any]

    def adjust_prior_year(
        self, actor: Actor, expenditure_id: UUID, *, reason: str,
        effective_date: date | None = None, expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Asks for an expenditure of a closed year to be reversed as a prior-year adjustment
        of that year and source level (its amount joins the recovered surplus; the allocation
        stays closed): an officer's two-person change, applied when an approver approves it."""
        role = actor.acting_as(Role.OFFICER)
        reason = reason_text(reason)
        params = {"expenditure": expenditure_id, "reason": reason,
                  "effective_date": effective_date}
        return self.propose_change(
            actor, role, PRIOR_YEAR_ADJUSTMENT, params, idempotency_key,
            check=lambda: self._closed_years_expenditure(expenditure_id, expected_version))

    def apply_prior_year_adjustment(self, context: ChangeContext,
                                    params: dict[str, Any]) -> Decision:
        expenditure = self._closed_years_expenditure(params["expenditure"])
        fund = self.load(self.load(expenditure.allocation_id).fund_id)
        effective_date = params["effective_date"]
        day = check_not_future(effective_date or self.today(), self.today(), "effective_date")
        if day.year <= expenditure.fiscal_year:
            msg = (f"a prior-year adjustment of {expenditure.fiscal_year} takes effect in a "
                   f"later year, not on {day}")
            raise InvalidInput(msg)
        stamp = context.stamp(day, params["reason"])
        expenditure.reverse(stamp)
        account_id = RecoveredSurplus.id_for(expenditure.fiscal_year, fund.source,
                                             expenditure.unit)
        account = self.find(RecoveredSurplus, account_id)
        if account is None:
            account = RecoveredSurplus(fiscal_year=expenditure.fiscal_year,
                                       source=fund.source, unit=expenditure.unit)
        account.adjust_prior_year(expenditure.id, expenditure.fund_code,
                                  expenditure.school_code, expenditure.amount, stamp)
        register = self._free_voucher(expenditure)
        return Decision([expenditure], [expenditure, account, register])

    def _closed_years_expenditure(self, expenditure_id: UUID,
                                  expected_version: int | None = None) -> Expenditure:
        """The expenditure, if its allocation was closed at year-end; otherwise a refusal
        pointing to the ordinary reversal."""
        expenditure: Expenditure = self.require(
            Expenditure, expenditure_id, ExpenditureNotFound, f"expenditure {expenditure_id}",
            expected_version)
        allocation = self.load(expenditure.allocation_id)
        if allocation.status != Status.CLOSED:
            msg = (f"expenditure {expenditure_id}'s allocation is {allocation.status}: "
                   "reverse it in its own year (POST …/reverse), not as a prior-year adjustment")
            raise AllocationClosed(msg, f"支出 {expenditure_id} 所属拨款尚未年终结账：请在本年度"
                                        "直接冲销，不作以前年度调整")
        return expenditure
