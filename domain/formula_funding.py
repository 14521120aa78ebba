"""The finance office's commands of formula funding: preview, propose, approve or reject
semester tranches (the standards, teaching points and enrolment snapshots they use:
domain/funding_inputs.py).

Each command runs through the ledger's own machinery (roles, idempotency keys, optimistic
concurrency, one atomic save), so a tranche of 2,000 allocations is written at one position
or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from domain.actors import Actor, Role
from domain.allocation import Allocation
from domain.enrolment_snapshot import EnrolmentSnapshot
from domain.errors import InvalidInput, LedgerError
from domain.event_reading import read_aggregates
from domain.fund import Fund
from domain.funding_inputs import FundingInputs
from domain.funding_standard import (
    FundingStandard,
    Rates,
    StandardMissing,
)
from domain.idempotency import id_from_key
from domain.ledger import FundLedger
from domain.limits import CODE_LENGTH_MAX
from domain.rules import check_choice, check_code, reason_text
from domain.school import School
from domain.tranche import (
    FormulaLine,
    Pupils,
    Semester,
    Tranche,
    TrancheExceedsAvailable,
    TrancheNotFound,
    TranchePlan,
    TrancheSlot,
    check_share,
    plain,
)
from domain.unit_of_work import Decision, Outcome, current_batch
from domain.units import money_text

SEMESTER_NAMES = {"spring": "春季学期", "autumn": "秋季学期"}


class FormulaFunding(FundingInputs):
    """Formula funding over one bureau's ledger."""

    # --------------------------------------------------------------- tranches

    def preview_tranche(self, actor: Actor, *, fund: str, snapshot: UUID, semester: str,
                        share: Any = "0.5", effective_date: date | None = None) -> TranchePlan:
        """Every eligible school's amount with its inputs; writes nothing."""
        actor.acting_as(Role.OFFICER)
        return self._plan(actor, fund, snapshot, semester, share, effective_date)[0]

    def propose_tranche(self, actor: Actor, *, fund: str, snapshot: UUID, semester: str,
                        share: Any = "0.5", effective_date: date | None = None,
                        plan: str | None = None,
                        idempotency_key: str | None = None) -> Outcome:
        """Proposes every line of the plan as one all-or-nothing batch at one position."""
        ledger = self.ledger
        role = actor.acting_as(Role.OFFICER)
        share_ = check_share(share)
        semester = check_choice(semester, Semester, "semester").value
        params = {"fund": fund, "snapshot": str(snapshot), "semester": semester,
                  "share": plain(share_), "effective_date": effective_date, "plan": plan}

        def decide() -> Decision:
            tranche_plan, fund_, snapshot_, schools = self._plan(
                actor, fund, snapshot, semester, share_, effective_date)
            if plan is not None:
                tranche_plan.check_mark(plan, [r["school"] for r in snapshot_.rows])
            if tranche_plan.missing_standards:
                levels = ", ".join(f"{m['level']} ({m['schools']} schools)"
                                   for m in tranche_plan.missing_standards)
                msg = (f"no approved {fund_.fiscal_year} {fund_.category} standard for: {levels}; "
                       "set and approve them first")
                raise StandardMissing(msg)
            if not tranche_plan.lines:
                msg = "no eligible school with pupils in the snapshot: nothing to propose"
                raise InvalidInput(msg)
            _check_affordable(fund_, tranche_plan)
            stamp = ledger._stamp_in_year(actor, role, fund_, effective_date, idempotency_key)
            tranche_id = (id_from_key("tranche", actor.user_id, idempotency_key)
                          if idempotency_key else uuid4())
            slot_id = TrancheSlot.id_for(fund_.code, semester, snapshot_.id)
            slot = ledger.find(TrancheSlot, slot_id)
            if slot is None:
                slot = TrancheSlot(fund_code=fund_.code, semester=semester,
                                   snapshot_id=snapshot_.id, tranche_id=tranche_id)
            else:
                slot.claim_again(tranche_id)
            purpose = f"{fund_.fiscal_year}年{SEMESTER_NAMES[semester]}{fund_.name}（按生均标准）"
            allocation_ids: dict[str, UUID] = {}
            changed: list[Any] = []
            for line in tranche_plan.lines:
                school = schools[line.school]
                allocation_id = uuid4()
                allocation_ids[line.school] = allocation_id
                allocation = Allocation.propose(
                    allocation_id, **fund_.allocation_terms(school.id, school.code, purpose,
                                                            line.amount), stamp=stamp)
                allocation.record_formula(tranche_id, snapshot_.id, _inputs(line, semester))
                changed.append(allocation)
            tranche = Tranche.propose(tranche_id, tranche_plan, fund_.id, snapshot_.id,
                                      allocation_ids, stamp)
            return Decision([tranche], [tranche, slot, *changed])

        return ledger.run(actor, "propose_tranche", params, idempotency_key, decide)

    def approve_tranche(self, actor: Actor, tranche_id: UUID, *,
                        exclude: dict[str, str] | None = None, effective_date: date | None = None,
                        idempotency_key: str | None = None) -> Outcome:
        """Approves every allocation of the tranche at once; schools the approver excludes,
        each with a reason, stay proposed."""
        ledger = self.ledger
        role = actor.acting_as(Role.APPROVER)
        excluded = {check_code(k, "school", CODE_LENGTH_MAX):
                    reason_text(v, what=f"reason for excluding {k}")
                    for k, v in (exclude or {}).items()}
        params = {"tranche": str(tranche_id), "exclude": excluded,
                  "effective_date": effective_date}

        def decide() -> Decision:
            tranche = self.tranche(tranche_id)
            fund = ledger.load(tranche.fund_id)
            stamp = ledger._stamp_in_year(actor, role, fund,
                                          effective_date or _decision_day(ledger, tranche, fund),
                                          idempotency_key)
            tranche.check_decision(stamp)
            ids = tranche.allocation_ids()
            approving = [line for line in tranche.lines if line["school"] not in excluded]
            total = sum(int(line["amount"]) for line in approving)
            if total > fund.available:
                raise TrancheExceedsAvailable(_shortfall_text(fund, total))
            tranche.approve(excluded, total, stamp)
            changed: list[Any] = [tranche]
            allocations = self._load_many([ids[line["school"]] for line in approving])
            for line in approving:
                allocation = allocations[ids[line["school"]]]
                allocation.approve(stamp)
                changed.append(allocation)
            fund.commit_tranche(tranche.id, [(a.id, a.allocated) for a in changed[1:]], stamp)
            changed.append(fund)
            return Decision([tranche], changed)

        return ledger.run(actor, "approve_tranche", params, idempotency_key, decide)

    def reject_tranche(self, actor: Actor, tranche_id: UUID, *, reason: str,
                       effective_date: date | None = None,
                       idempotency_key: str | None = None) -> Outcome:
        """Rejects every allocation of the tranche; the fund, semester and snapshot are free
        for a new tranche."""
        ledger = self.ledger
        role = actor.acting_as(Role.APPROVER)
        reason = reason_text(reason)
        params = {"tranche": str(tranche_id), "reason": reason, "effective_date": effective_date}

        def decide() -> Decision:
            tranche = self.tranche(tranche_id)
            fund = ledger.load(tranche.fund_id)
            stamp = ledger._stamp_in_year(actor, role, fund,
                                          effective_date or _decision_day(ledger, tranche, fund),
                                          idempotency_key, reason)
            tranche.reject(stamp)
            changed: list[Any] = [tranche]
            for allocation in self._load_many(list(tranche.allocation_ids().values())).values():
                allocation.reject(stamp)
                changed.append(allocation)
            slot = ledger.load(TrancheSlot.id_for(tranche.fund_code, tranche.semester,
                                                   tranche.snapshot_id))
            slot.free()
            changed.append(slot)
            return Decision([tranche], changed)

        return ledger.run(actor, "reject_tranche", params, idempotency_key, decide)

    def tranche(self, tranche_id: UUID) -> Tranche:
        return self.ledger.require(Tranche, tranche_id, TrancheNotFound, f"tranche {tranche_id}")

    def _plan(self, actor: Actor, fund_code: str, snapshot_id: UUID, semester: str, share: Any,
              effective_date: date | None
              ) -> tuple[TranchePlan, Fund, EnrolmentSnapshot, dict[str, School]]:
        ledger = self.ledger
        share_ = check_share(share)
        semester = check_choice(semester, Semester, "semester").value
        fund = ledger._fund(fund_code)
        fund.check_open()
        snapshot = self.snapshot(snapshot_id)
        day = ledger._stamp_in_year(actor, Role.OFFICER, fund, effective_date, None).effective_date
        plan = TranchePlan(fund=fund.code, fiscal_year=fund.fiscal_year, unit=fund.unit,
                           snapshot=str(snapshot.id), snapshot_name=snapshot.name,
                           semester=semester, share=plain(share_), effective_date=day,
                           available=fund.available)
        counts = snapshot.counts()
        loaded = self._load_many([School.id_for(c.school) for c in counts])
        schools = {c.school: loaded[School.id_for(c.school)] for c in counts}
        eligible: dict[str, Pupils] = {}
        for count in counts:
            school = schools[count.school]
            try:
                fund.check_may_pay(school, day)
            except LedgerError as refusal:
                plan.excluded.append({"school": count.school, "reason": str(refusal)})
                continue
            eligible[count.school] = Pupils(count.total, count.boarders, count.special_needs)
        # Teaching points are budgeted inside their parent school (reference/domain.md §2.3).
        for code in list(eligible):
            parent = schools[code].parent_code
            if parent is not None and parent in eligible:
                eligible[parent] = eligible[parent].plus(code, eligible.pop(code))
        plan.eligible_rows = [c.school in eligible or schools[c.school].parent_code in eligible
                              for c in counts]
        rates_by_level = {level: self._rates(fund, level)
                          for level in sorted({schools[c].level for c in eligible})}
        missing: dict[str, int] = {}
        for code, pupils in sorted(eligible.items()):
            level = schools[code].level
            rates = rates_by_level[level]
            if rates is None:
                missing[level] = missing.get(level, 0) + 1
                continue
            line = FormulaLine.compute(code, level, pupils, rates, share_)
            if line.amount == 0:
                plan.excluded.append({"school": code, "reason": "no pupils in the snapshot"})
                continue
            plan.lines.append(line)
        plan.missing_standards = [{"level": lv, "schools": n} for lv, n in sorted(missing.items())]
        return plan, fund, snapshot, schools

    def _load_many(self, ids: Sequence[UUID]) -> dict[UUID, Any]:
        """Many aggregates in a few queries (domain/event_reading.py), except inside a batch,
        whose own copies must be used."""
        ledger = self.ledger
        if ledger_batch_open():
            return {i: ledger.load(i) for i in ids}
        return read_aggregates(ledger, ids)

    def _rates(self, fund: Fund, level: str) -> Rates | None:
        standard = self.ledger.find(
            FundingStandard, FundingStandard.id_for(fund.fiscal_year, level, fund.category))
        return standard.rates() if standard is not None else None


def ledger_batch_open() -> bool:
    return current_batch.get() is not None


def _inputs(line: FormulaLine, semester: str) -> dict[str, Any]:
    return {"semester": semester, **{k: v for k, v in line.__dict__.items() if k != "school"}}


def _check_affordable(fund: Fund, plan: TranchePlan) -> None:
    if plan.total > fund.available:
        raise TrancheExceedsAvailable(_shortfall_text(fund, plan.total))


def _shortfall_text(fund: Fund, total: int) -> str:
    return (f"fund {fund.code} has {money_text(fund.available, fund.unit)} available; the tranche "
            f"needs {money_text(total, fund.unit)}: short by "
            f"{money_text(total - fund.available, fund.unit)}")


def _decision_day(ledger: FundLedger, tranche: Tranche, fund: Fund) -> date:
    """A decision defaults to today (or the year's last day), never before the proposal."""
    today = min(ledger.today(), date(fund.fiscal_year, 12, 31))
    return max(today, tranche.effective_date)

