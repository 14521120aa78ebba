"""The bureau's commands on allocations and on the spending against them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain.actors import Actor, Role, Stamp
from domain.all_or_nothing import AllOrNothing, Prepared, item_key
from domain.allocation import Allocation
from domain.approvals import ChangeCommands
from domain.bureau import check_unit
from domain.change import ChangeContext, register_change_kind
from domain.classification import ExpenditureClass
from domain.errors import AllocationClosed, InvalidInput, LedgerError, TransferNotAllowed
from domain.expenditure import Expenditure, VoucherNumber
from domain.funding_standard import FundingStandard, check_hand_allocation
from domain.idempotency import id_from_key
from domain.limits import (
    DESCRIPTION_LENGTH_MAX,
    EXPENDITURE_BATCH_MAX,
    PAYEE_LENGTH_MAX,
    REASON_LENGTH_MAX,
)
from domain.rules import check_choice, check_not_future, check_text, reason_text
from domain.unit_of_work import Decision, Outcome
from domain.units import check_amount, check_delta
from domain.vouchers import check_voucher

# The two-person changes registered here (domain/change.py); stable names, stored.
ALLOCATION_ADJUST = "allocation_adjust"
ALLOCATION_TRANSFER = "allocation_transfer"
ALLOCATION_CANCEL = "allocation_cancel"


class AllocationCommands(ChangeCommands, AllOrNothing):
    def propose_allocation(
        self, actor: Actor, *, fund: str, school: str, amount: int, purpose: str,
        effective_date: date | None = None, unit: str | None = None,
        below_standard_reason: str = "", idempotency_key: str | None = None,
    ) -> Outcome:
        role = actor.acting_as(Role.OFFICER)
        amount = check_amount(amount)
        purpose = check_text(purpose, "purpose", DESCRIPTION_LENGTH_MAX)
        below_standard_reason = check_text(below_standard_reason, "below_standard_reason",
                                           REASON_LENGTH_MAX, required=False)
        params = {"fund": fund, "school": school, "amount": amount, "purpose": purpose,
                  "effective_date": effective_date, "unit": unit}
        if below_standard_reason:
            params["below_standard_reason"] = below_standard_reason

        def decide() -> Decision:
            fund_ = self._fund(fund)
            fund_.check_open()
            check_unit(unit, fund_.unit)
            school_ = self._school(school)
            stamp = self._stamp_in_year(actor, role, fund_, effective_date, idempotency_key)
            fund_.check_may_pay(school_, stamp.effective_date)
            fund_.check_can_commit(amount)
            allocation = Allocation.propose(
                _new_id("allocation", actor, idempotency_key),
                **fund_.allocation_terms(school_.id, school_.code, purpose, amount), stamp=stamp)
            if fund_.formula_funded:
                # Prevention instead of detection (docs/formula-funding.md).
                standard = self.find(FundingStandard, FundingStandard.id_for(
                    fund_.fiscal_year, school_.level, fund_.category))
                floor = check_hand_allocation(standard, school_, stamp.effective_date, amount,
                                              fund_.unit, below_standard_reason)
                if floor is not None:
                    allocation.accept_below_standard(
                        floor, replace(stamp, reason=below_standard_reason))
            return Decision([allocation])

        return self.run(actor, "propose_allocation", params, idempotency_key, decide)

    def approve_allocation(
        self, actor: Actor, allocation_id: UUID, *, reason: str = "",
        effective_date: date | None = None, expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        role = actor.acting_as(Role.APPROVER)
        reason = reason_text(reason, required=False)

        def decide() -> Decision:
            allocation = self._allocation(allocation_id, expected_version)
            fund = self.load(allocation.fund_id)
            stamp = self._stamp_in_year(actor, role, fund, effective_date, idempotency_key,
                                        reason)
            if stamp.effective_date < allocation.effective_date:
                msg = (f"approval date {stamp.effective_date} is before the proposal's "
                       f"effective date {allocation.effective_date}")
                raise InvalidInput(msg)
            allocation.approve(stamp)
            fund.commit(allocation.id, allocation.allocated, stamp)
            return Decision([allocation], [allocation, fund])

        return self._run_on(actor, "approve_allocation", allocation_id, reason, effective_date,
                            idempotency_key, decide)

    def reject_allocation(
        self, actor: Actor, allocation_id: UUID, *, reason: str,
        effective_date: date | None = None, expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        role = actor.acting_as(Role.APPROVER)
        reason = reason_text(reason)

        def decide() -> Decision:
            allocation = self._allocation(allocation_id, expected_version)
            allocation.reject(self._stamp_in_year(actor, role, self.load(allocation.fund_id),
                                                  effective_date, idempotency_key, reason))
            return Decision([allocation])

        return self._run_on(actor, "reject_allocation", allocation_id, reason, effective_date,
                            idempotency_key, decide)

    def adjust_allocation(
        self, actor: Actor, allocation_id: UUID, *, delta: int, reason: str,
        effective_date: date | None = None, expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Asks for an approved allocation to be raised or lowered: a two-person change."""
        role = actor.acting_as(Role.APPROVER)
        params = {"allocation": allocation_id, "delta": check_delta(delta),
                  "reason": reason_text(reason), "effective_date": effective_date}
        return self.propose_change(
            actor, role, ALLOCATION_ADJUST, params, idempotency_key,
            check=lambda: self._allocation(allocation_id, expected_version))

    def _apply_adjust_allocation(self, context: ChangeContext,
                                 params: dict[str, Any]) -> Decision:
        delta = params["delta"]
        allocation = self._allocation(params["allocation"])
        fund = self.load(allocation.fund_id)
        stamp = self._change_stamp(context, fund, params)
        allocation.adjust(delta, stamp)
        if delta > 0:
            fund.commit(allocation.id, delta, stamp)
        else:
            fund.release(allocation.id, -delta, stamp)
        return Decision([allocation], [allocation, fund])

    def cancel_allocation(
        self, actor: Actor, allocation_id: UUID, *, reason: str,
        effective_date: date | None = None, expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Asks for an allocation to be cancelled, its unspent remainder going back to the
        fund: a two-person change."""
        role = actor.acting_as(Role.OFFICER)
        params = {"allocation": allocation_id, "reason": reason_text(reason),
                  "effective_date": effective_date}
        return self.propose_change(
            actor, role, ALLOCATION_CANCEL, params, idempotency_key,
            check=lambda: self._allocation(allocation_id, expected_version))

    def _apply_cancel_allocation(self, context: ChangeContext,
                                 params: dict[str, Any]) -> Decision:
        allocation = self._allocation(params["allocation"])
        fund = self.load(allocation.fund_id)
        stamp = self._change_stamp(context, fund, params)
        released = allocation.cancel(stamp)
        if released > 0:
            fund.release(allocation.id, released, stamp)
        return Decision([allocation], [allocation, fund])

    def transfer_allocation(
        self, actor: Actor, allocation_id: UUID, *, amount: int, reason: str,
        to_school: str | None = None, to_allocation: UUID | None = None,
        effective_date: date | None = None, expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Asks for part of the unspent remainder to move to another allocation of the same
        fund (an existing one, or a new one for another school): a two-person change, applied
        in one atomic write when approved."""
        role = actor.acting_as(Role.OFFICER)
        if (to_school is None) == (to_allocation is None):
            msg = "name exactly one of to_school and to_allocation"
            raise InvalidInput(msg)
        params = {"allocation": allocation_id, "amount": check_amount(amount),
                  "reason": reason_text(reason), "to_school": to_school,
                  "to_allocation": to_allocation, "effective_date": effective_date}
        return self.propose_change(
            actor, role, ALLOCATION_TRANSFER, params, idempotency_key,
            check=lambda: self._allocation(allocation_id, expected_version))

    def _apply_transfer_allocation(self, context: ChangeContext,
                                   params: dict[str, Any]) -> Decision:
        amount, to_school, to_allocation = (params["amount"], params["to_school"],
                                            params["to_allocation"])
        source = self._allocation(params["allocation"])
        fund = self.load(source.fund_id)
        fund.check_open()
        stamp = self._change_stamp(context, fund, params)
        changed: list[Aggregate] = [source]
        if to_allocation is not None:
            target = self._allocation(to_allocation)
            if target.id == source.id or target.fund_id != source.fund_id:
                msg = "a transfer goes to another allocation of the same fund"
                raise TransferNotAllowed(msg, "调剂只能调入同一资金的另一笔拨款")
            source.transfer_out(target.id, amount, stamp)
            target.transfer_in(source.id, amount, stamp)
        else:
            school = self._school(to_school)
            fund.check_may_pay(school, stamp.effective_date)
            target_id = context.derived_id("allocation")
            source.transfer_out(target_id, amount, stamp)
            target = Allocation.open_by_transfer(
                target_id, approved_by=context.approved_by,
                **fund.allocation_terms(school.id, school.code, source.purpose, amount),
                stamp=stamp)
            # The fund learns of the new allocation so that year-end close reaches it.
            fund.commit(target.id, 0, stamp)
            changed.append(fund)
        changed.append(target)
        return Decision([source, target], changed)

    # ------------------------------------------------------------ expenditures

    def record_expenditure(
        self, actor: Actor, *, allocation: UUID, amount: int, payee: str, voucher: str,
        spent_on: date, description: str = "", economic_class: str | None = None,
        unit: str | None = None, idempotency_key: str | None = None,
    ) -> Outcome:
        params, decide = self._expenditure_command(
            actor, allocation=allocation, amount=amount, payee=payee, voucher=voucher,
            spent_on=spent_on, description=description, economic_class=economic_class,
            unit=unit, idempotency_key=idempotency_key)
        return self.run(actor, "record_expenditure", params, idempotency_key, decide)

    def record_expenditures(self, actor: Actor, items: Sequence[dict[str, Any]],
                            idempotency_key: str | None = None) -> Outcome:
        """Up to EXPENDITURE_BATCH_MAX expenditures (each the keywords of record_expenditure)
        in one atomic write, or none: a refused item refuses the batch, naming every refused
        item (domain/all_or_nothing.py). The outcome's subjects are the expenditures, in order."""
        actor.acting_as(Role.OFFICER)
        if not 1 <= len(items) <= EXPENDITURE_BATCH_MAX:
            msg = f"a batch holds 1 to {EXPENDITURE_BATCH_MAX} expenditures, not {len(items)}"
            raise InvalidInput(msg)
        prepared: list[Prepared] = []
        for index, item in enumerate(items):
            try:
                prepared.append(self._expenditure_command(
                    actor, **item, idempotency_key=item_key(idempotency_key, index))[1])
            except LedgerError as error:
                prepared.append(error)
        allocations = [item.get("allocation") for item in items]
        return self.run_all(actor, "record_expenditures", {"items": list(items)},
                            idempotency_key, prepared,
                            reads=[a for a in allocations if isinstance(a, UUID)])

    def _expenditure_command(
        self, actor: Actor, *, allocation: UUID, amount: int, payee: str, voucher: str,
        spent_on: date, description: str = "", economic_class: str | None = None,
        unit: str | None = None, idempotency_key: str | None = None,
    ) -> tuple[dict[str, Any], Callable[[], Decision]]:
        """An expenditure's checked parameters and its decision, not yet run."""
        role = actor.acting_as(Role.OFFICER)
        fields = {"amount": check_amount(amount),
                  "payee": check_text(payee, "payee", PAYEE_LENGTH_MAX),
                  "voucher": check_voucher(voucher),
                  "description": check_text(description, "description", DESCRIPTION_LENGTH_MAX,
                                            required=False, multiline=True),
                  "spent_on": spent_on}
        if economic_class is not None:
            economic_class = check_choice(economic_class, ExpenditureClass,
                                          "economic class").value
        check_not_future(spent_on, self.today(), "spent_on")

        def decide() -> Decision:
            allocation_ = self._allocation(allocation)
            check_unit(unit, allocation_.unit)
            class_ = allocation_.check_spend(spent_on, economic_class)
            stamp = Stamp(actor.user_id, role.value, spent_on, idempotency_key)
            expenditure_id = _new_id("expenditure", actor, idempotency_key)
            allocation_.spend(expenditure_id, fields["amount"], spent_on, stamp)
            register = self._claim_voucher(allocation_, fields["voucher"], expenditure_id)
            expenditure = Expenditure.record(
                expenditure_id, allocation_id=allocation_.id, fund_code=allocation_.fund_code,
                school_code=allocation_.school_code, fiscal_year=allocation_.fiscal_year,
                unit=allocation_.unit, economic_class=class_, stamp=stamp, **fields)
            return Decision([expenditure], [expenditure, allocation_, register])

        return {"allocation": str(allocation), **fields, "economic_class": economic_class,
                "unit": unit}, decide

    def reverse_expenditure(
        self, actor: Actor, expenditure_id: UUID, *, reason: str,
        effective_date: date | None = None, expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Reverses a recorded expenditure; the allocation's remainder is restored."""
        role = actor.acting_as(Role.OFFICER)
        reason = reason_text(reason)

        def decide() -> Decision:
            expenditure = self._expenditure(expenditure_id, expected_version)
            allocation = self.load(expenditure.allocation_id)
            day = effective_date or max(expenditure.spent_on, self.today())
            check_not_future(day, self.today(), "effective_date")
            if day < expenditure.spent_on:
                msg = ("a reversal cannot take effect before the spending it reverses "
                       f"({expenditure.spent_on})")
                raise InvalidInput(msg)
            if allocation.status == "closed" and not expenditure.reversed:
                msg = (f"expenditure {expenditure_id} was spent in {expenditure.fiscal_year}, "
                       "closed at year-end: ask for a prior-year adjustment instead, a two-person "
                       "change (POST /v1/expenditures/{id}/prior-year-adjustment)")
                raise AllocationClosed(msg, f"支出 {expenditure_id} 属 {expenditure.fiscal_year} 年度，"
                                            "该年度已年终结账：请改为申请以前年度调整（需另一人复核）")
            stamp = Stamp(actor.user_id, role.value, day, idempotency_key, reason)
            expenditure.reverse(stamp)
            allocation.restore(expenditure.id, expenditure.amount, stamp)
            register = self._free_voucher(expenditure)
            return Decision([expenditure], [expenditure, allocation, register])

        return self.run(actor, "reverse_expenditure", {
            "expenditure": str(expenditure_id), "reason": reason,
            "effective_date": effective_date}, idempotency_key, decide)

    def _run_on(self, actor: Actor, command: str, allocation_id: UUID, reason: str,
                effective_date: date | None, idempotency_key: str | None,
                decide: Callable[[], Decision], **more: object) -> Outcome:
        """Runs a command on one allocation; its request is the allocation, the reason, the
        date and `more`."""
        params = {"allocation": str(allocation_id), "reason": reason,
                  "effective_date": effective_date, **more}
        return self.run(actor, command, params, idempotency_key, decide)

    def _claim_voucher(self, allocation: Allocation, voucher: str,
                       expenditure_id: UUID) -> VoucherNumber:
        register_id = VoucherNumber.id_for(allocation.school_code, allocation.fiscal_year, voucher)
        register = self.find(VoucherNumber, register_id)
        if register is None:
            return VoucherNumber.claim(allocation.school_code, allocation.fiscal_year, voucher,
                                       expenditure_id)
        register.claim_again(expenditure_id)
        return register


def _new_id(kind: str, actor: Actor, idempotency_key: str | None) -> UUID:
    """A keyed request's new aggregate has an id that follows from the key, so two concurrent
    first attempts collide in the store; an unkeyed one a random id."""
    return id_from_key(kind, actor.user_id, idempotency_key) if idempotency_key else uuid4()


register_change_kind(ALLOCATION_ADJUST, AllocationCommands._apply_adjust_allocation,
                     "Raise or lower an approved allocation")
register_change_kind(ALLOCATION_TRANSFER, AllocationCommands._apply_transfer_allocation,
                     "Move part of an allocation's remainder to another allocation")
register_change_kind(ALLOCATION_CANCEL, AllocationCommands._apply_cancel_allocation,
                     "Cancel an allocation; its remainder goes back to the fund")
