"""The year-end close as the bureau's finance office runs it: per allocation, all or nothing.

`close_fund` closes one fund, `close_year` every money fund of a fiscal year. Each open
allocation's remainder is carried over (结转) into a new allocation of the next year's fund
of the same purpose for the same school, or recovered as surplus (结余) to the fund's source
level (domain/dispositions.py has the rules). Everything the close changes — the funds, every
allocation, the next year's funds and their new allocations, the recovered-surplus accounts —
is saved in one atomic write: a spend racing with the close either lands first and its
allocation's remainder is carried, or meets a closed allocation (`allocation_closed`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.actors import Actor, Role, Stamp
from domain.allocation import Allocation, Status
from domain.dispositions import (
    CARRY_OVER_YEARS_MAX_DEFAULT,
    Choice,
    Disposition,
    check_same_purpose,
    decide,
    disposition_named,
    find_target,
    is_money,
)
from domain.errors import FundClosed, FundNotFound, InvalidInput, ResourceUnitsNotClosed
from domain.event_reading import read_aggregates
from domain.limits import CODE_LENGTH_MAX
from domain.rules import check_code, reason_text
from domain.surplus import RecoveredSurplus
from domain.unit_of_work import Decision, working_copy, working_set

if TYPE_CHECKING:
    from eventsourcing.domain import Aggregate

    from domain.fund import Fund

YEAR_END_REASON_DEFAULT = "year-end close"
# Next year's fund → (the fund, [(carried-in allocation, amount)]) of one source fund's close.
Receipts = dict[UUID, tuple["Fund", list[tuple[UUID, int]]]]
EXCEPTIONS_MAX = 10_000  # per-allocation exceptions one close request may carry


@dataclass(frozen=True)
class Override:
    """An allocation whose remainder is treated otherwise than its fund's default."""

    allocation: UUID
    choice: Choice


@dataclass
class ClosePlan:
    """What one close decided, fund by fund, before it is saved."""

    funds: list[Fund] = field(default_factory=list)
    changed: dict[UUID, Aggregate] = field(default_factory=dict)
    # Next year's funds and surplus accounts, loaded once: several funds may write to each.
    shared: dict[UUID, Aggregate] = field(default_factory=dict)
    carried_forward: int = 0
    surplus_recovered: int = 0
    allocations_closed: int = 0


def exceptions_from(items: Iterable[Mapping[str, Any]]) -> list[Override]:
    """Per-allocation exceptions as the API and CLI give them: allocation, disposition,
    reason, carry_to."""
    found: list[Override] = []
    for item in items:
        try:
            allocation = UUID(str(item["allocation"]))
        except (KeyError, ValueError):
            msg = "each exception names an allocation by its id"
            raise InvalidInput(msg) from None
        disposition = item.get("disposition")
        reason = reason_text(item.get("reason") or "", required=False)
        carry_to = item.get("carry_to")
        found.append(Override(allocation, Choice(
            disposition_named(disposition) if disposition else None, reason,
            check_code(carry_to, "carry_to", CODE_LENGTH_MAX) if carry_to else None)))
    if len(found) > EXCEPTIONS_MAX:
        msg = f"at most {EXCEPTIONS_MAX} exceptions per close"
        raise InvalidInput(msg)
    if len({e.allocation for e in found}) != len(found):
        msg = "an allocation appears twice among the exceptions"
        raise InvalidInput(msg)
    return found


class YearEndCommands:
    """The year-end commands of `FundLedger` (a mixin over its machinery)."""

    carry_over_years_max: int = CARRY_OVER_YEARS_MAX_DEFAULT

    # The ledger's machinery, named here for type checkers.
    run: Callable[..., Any]
    propose_change: Callable[..., Any]
    load: Callable[..., Any]
    _fund: Callable[..., Fund]
    find: Callable[..., Any]
    _recall: Callable[[UUID], Any]
    _stamp_in_year: Callable[..., Stamp]

    def close_fund(
        self, actor: Actor, code: str, *, disposition: str | None = None,
        carry_to: str | None = None, reason: str = "",
        exceptions: Sequence[Mapping[str, Any]] = (), next_year_funds: Sequence[str] = (),
        effective_date: date | None = None, expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Year-end close of one fund: each allocation's remainder carried over (结转) or
        recovered as surplus (结余); `exceptions` treat single allocations otherwise."""
        role = actor.acting_as(Role.APPROVER)
        params = {"code": code, **_plain_choices(disposition, reason, carry_to, exceptions),
                  "next_year_funds": sorted(next_year_funds), "effective_date": effective_date}
        # A two-person change (domain/change.py): tried now, applied when another approves.
        return self.propose_change(actor, role, "fund_close", params, idempotency_key,
                                   check=lambda: self._fund(code, expected_version))

    def close_year(
        self, actor: Actor, fiscal_year: int, *, funds: Sequence[str],
        next_year_funds: Sequence[str] = (), disposition: str | None = None,
        reason: str = "", exceptions: Sequence[Mapping[str, Any]] = (),
        effective_date: date | None = None, idempotency_key: str | None = None,
    ) -> Any:
        """Closes every open money fund of `fiscal_year` among `funds` (the bureau's funds of
        that year, as the caller's views list them), all or nothing."""
        role = actor.acting_as(Role.APPROVER)
        params = {"fiscal_year": fiscal_year, "funds": sorted(set(funds)),
                  **_plain_choices(disposition, reason, None, exceptions),
                  "next_year_funds": sorted(next_year_funds), "effective_date": effective_date}
        return self.propose_change(actor, role, "year_close", params, idempotency_key)

    def apply_close_fund(self, context: Any, params: dict[str, Any]) -> Decision:
        return self.decide_close_fund(context.maker, context.maker_role, params, context.key)

    def apply_close_year(self, context: Any, params: dict[str, Any]) -> Decision:
        return self.decide_close_year(context.maker, context.maker_role, params, context.key)

    # Deciding from plain, checked parameters (what a two-person pending change stores): the
    # change flow's `apply` calls these with the maker, the maker's role and the change's key.

    def decide_close_fund(self, maker: Actor, role: Role, params: Mapping[str, Any],
                          key: str | None, expected_version: int | None = None) -> Decision:
        code = params["code"]
        fund = self._fund(code, expected_version)
        fund.check_open()
        if not is_money(fund.unit):
            msg = (f"fund {code} is in {fund.unit}: resource units are stocks, not money, "
                   "and have no 结转 or 结余")
            raise ResourceUnitsNotClosed(msg)
        plan = self._plan_close([fund], params, maker, role, key)
        return _decision([fund], plan)

    def decide_close_year(self, maker: Actor, role: Role, params: Mapping[str, Any],
                          key: str | None) -> Decision:
        fiscal_year = params["fiscal_year"]
        from domain.fund import Fund  # noqa: PLC0415  (fund imports nothing of the close)

        loaded = [self._remembered_fund(Fund.id_for(code)) or self._fund(code)
                  for code in params["funds"]]
        closing = [f for f in loaded if f.fiscal_year == fiscal_year and not f.closed
                   and is_money(f.unit)]
        if not closing:
            msg = f"fiscal year {fiscal_year} has no open fund in money to close"
            raise FundClosed(msg)
        return _decision(closing, self._plan_close(closing, params, maker, role, key))

    # ------------------------------------------------------------------ the plan

    def _plan_close(self, funds: list[Fund], params: Mapping[str, Any], actor: Actor, role: Role,
                    idempotency_key: str | None) -> ClosePlan:
        default = _choice(params["disposition"], params["reason"], params.get("carry_to"))
        exceptions = exceptions_from(params["exceptions"])
        next_year_funds: Sequence[str] = params["next_year_funds"]
        effective_date: date | None = params["effective_date"]
        plan = ClosePlan(funds=funds)
        by_allocation = {e.allocation: e.choice for e in exceptions}
        candidates: list[Fund] | None = None
        unknown = set(by_allocation)

        def next_year() -> list[Fund]:
            nonlocal candidates
            if candidates is None:
                candidates = [f for f in (self._find_fund(c, plan)
                                          for c in sorted(set(next_year_funds)))
                              if f is not None]
            return candidates

        for fund in funds:
            stamp = self._stamp_in_year(actor, role, fund, effective_date, idempotency_key,
                                        default.reason or YEAR_END_REASON_DEFAULT)
            carry_in_stamp = Stamp(actor.user_id, role.value, date(fund.fiscal_year + 1, 1, 1),
                                   idempotency_key, stamp.reason)
            carried = surplus = 0
            targets: dict[str | None, Fund] = {}
            receipts: Receipts = {}
            loaded = self._read_many(fund.allocation_ids)
            # The schools whose remainders may be carried, read together: a carried remainder
            # must meet the target fund's earmark and level rules for its school.
            schools = {a.school_id for a in loaded.values()
                       if a.status == Status.APPROVED and a.remaining > 0} - set(plan.shared)
            plan.shared.update(self._read_many(sorted(schools, key=str), copies=False))
            for allocation_id in fund.allocation_ids:
                allocation: Allocation = loaded.get(allocation_id) or self.load(allocation_id)
                unknown.discard(allocation_id)
                if allocation.status == Status.PROPOSED:
                    allocation.expire_proposal(stamp)
                    plan.changed[allocation.id] = allocation
                    continue
                if allocation.status != Status.APPROVED:
                    continue
                choice = by_allocation.get(allocation_id, default)
                disposition, rule = decide(fund.category, choice,
                                           carried_since=allocation.carried_since,
                                           fiscal_year=fund.fiscal_year,
                                           carry_over_years_max=self.carry_over_years_max)
                plan.allocations_closed += 1
                if disposition is Disposition.SURPLUS or allocation.remaining == 0:
                    surplus += allocation.recover_surplus(fund.source, rule, stamp)
                    plan.changed[allocation.id] = allocation
                    continue
                carried += self._carry(plan, fund, allocation, choice, targets, next_year,
                                       stamp, carry_in_stamp, receipts)
            for target, allocations in receipts.values():
                target.receive_carry_over(fund.code, allocations, carry_in_stamp)
            fund.close_year(carried, surplus, stamp)
            plan.changed[fund.id] = fund
            if surplus:
                account = self._surplus_account(fund, plan)
                account.recover(fund.code, surplus, stamp)
                plan.changed[account.id] = account
            plan.carried_forward += carried
            plan.surplus_recovered += surplus
        if unknown:
            msg = (f"exceptions name allocations not in the funds closed: "
                   f"{', '.join(sorted(str(u) for u in unknown))}")
            raise InvalidInput(msg)
        return plan

    def _carry(self, plan: ClosePlan, fund: Fund, allocation: Allocation, choice: Choice,
               targets: dict[str | None, Fund], next_year: Callable[[], list[Fund]],
               stamp: Stamp, carry_in_stamp: Stamp, receipts: Receipts) -> int:
        """结转: the remainder opens an allocation of next year's fund of the same purpose."""
        target = targets.get(choice.carry_to)
        if target is None:
            target = self._carry_target(fund, choice.carry_to, next_year, plan)
            targets[choice.carry_to] = target
            plan.changed[target.id] = target
        # The carried remainder becomes an allocation of the target fund, so the target's
        # earmark and level rules hold for it as for any other.
        school = plan.shared.get(allocation.school_id)
        if school is None:
            school = plan.shared[allocation.school_id] = self.load(allocation.school_id)
        target.check_eligible(school, carry_in_stamp.effective_date)
        successor_id = allocation.carry_id()
        amount = allocation.carry_forward(successor_id, target.code, stamp)
        successor = Allocation.open_by_carry_in(
            successor_id, allocation.carried_since or fund.fiscal_year,
            fund_id=target.id, fund_code=target.code, school_id=allocation.school_id,
            school_code=allocation.school_code, fiscal_year=target.fiscal_year,
            unit=target.unit, category=target.category,
            expenditure_classes=list(target.expenditure_classes),
            purpose=allocation.purpose, amount=amount, stamp=carry_in_stamp)
        receipts.setdefault(target.id, (target, []))[1].append((successor.id, amount))
        plan.changed[allocation.id] = allocation
        plan.changed[successor.id] = successor
        return amount

    def _read_many(self, aggregate_ids: Sequence[UUID], *, copies: bool = True
                   ) -> dict[UUID, Any]:
        """Outside a batch, a fund's allocations: copies of those this process last wrote
        (its memory of recent aggregates), the others in a few queries; inside a batch, as
        the batch holds them (each by `load`, the unknown ones read first). Decoding every
        event of every allocation was most of a close's time. A remembered allocation another
        process changed since is caught by the close's save (optimistic concurrency on its
        version): the store refuses it, the memory is forgotten and the close is decided again
        from the store. Aggregates only consulted (`copies=False`: the schools) are handed
        over as remembered."""
        working = working_set.get()
        if working is not None:
            self.read_ahead(aggregate_ids)  # where `load` finds them
            return {}
        found: dict[UUID, Any] = {}
        unknown: list[UUID] = []
        for aggregate_id in aggregate_ids:
            known = self._recall(aggregate_id)
            if known is None:
                unknown.append(aggregate_id)
            else:
                found[aggregate_id] = working_copy(known) if copies else known
        found.update(read_aggregates(self, unknown))
        return found

    def _remembered_fund(self, fund_id: UUID) -> Fund | None:
        """A copy of the fund as this process last wrote it, outside a batch. Otherwise the
        fund is loaded from its snapshot: folding a fund's whole history checks each approval
        against the ids of every allocation before it."""
        known = self._recall(fund_id) if working_set.get() is None else None
        return working_copy(known) if known is not None else None

    def _carry_target(self, fund: Fund, carry_to: str | None,
                      next_year: Callable[[], list[Fund]], plan: ClosePlan) -> Fund:
        if carry_to is not None:
            target = self._find_fund(carry_to, plan)
            if target is None:
                msg = f"fund {carry_to} not found"
                raise FundNotFound(msg)
            check_same_purpose(fund, target)
            return target
        return find_target(fund, next_year())

    def _find_fund(self, fund_code: str, plan: ClosePlan) -> Fund | None:
        from domain.fund import Fund  # noqa: PLC0415  (fund imports nothing of the close)

        fund_id = Fund.id_for(fund_code)
        if fund_id not in plan.shared:
            found = self._remembered_fund(fund_id) or self.find(Fund, fund_id)
            if found is None:
                return None
            plan.shared[fund_id] = found
        return plan.shared[fund_id]

    def _surplus_account(self, fund: Fund, plan: ClosePlan) -> RecoveredSurplus:
        account_id = RecoveredSurplus.id_for(fund.fiscal_year, fund.source, fund.unit)
        if account_id not in plan.shared:
            account = self.find(RecoveredSurplus, account_id)
            if account is None:
                account = RecoveredSurplus(fiscal_year=fund.fiscal_year, source=fund.source,
                                           unit=fund.unit)
            plan.shared[account_id] = account
        return plan.shared[account_id]


def _plain_choices(disposition: str | None, reason: str, carry_to: str | None,
                   exceptions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The close's choices checked, as plain values (a pending change stores them)."""
    default = _choice(disposition, reason, carry_to)
    return {
        "disposition": default.disposition.value if default.disposition else None,
        "reason": default.reason, "carry_to": default.carry_to,
        "exceptions": [{"allocation": str(o.allocation),
                        "disposition": o.choice.disposition.value if o.choice.disposition else None,
                        "reason": o.choice.reason, "carry_to": o.choice.carry_to}
                       for o in exceptions_from(exceptions)],
    }


def _choice(disposition: str | None, reason: str, carry_to: str | None) -> Choice:
    reason = reason_text(reason or "", required=False)
    if carry_to is not None:
        carry_to = check_code(carry_to, "carry_to", CODE_LENGTH_MAX)
    return Choice(disposition_named(disposition) if disposition else None, reason, carry_to)


def _decision(subjects: list[Fund], plan: ClosePlan) -> Decision:
    return Decision(list(subjects), list(plan.changed.values()))
