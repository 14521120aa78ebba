"""Anomaly injection: on top of a generated fiscal year, issue the ledger commands that create
the anomalies auditors look for, and write a ground-truth JSONL of exactly what was injected.

Rates follow reference/domain.md §(c) (calibrated to the audit findings of §4). Each
ground-truth line names the findings rule that must catch the anomaly and the same `key`
the rule's finding carries, so findings can be scored exactly:

    {"rule": "maker_checker", "fiscal_year": 2025, "key": {"allocation_id": "…"}, "detail": "…"}

Two anomalies cannot pass the ledger's checks — an approval by the proposer, and a voucher
of a class the fund does not allow. Real books get them from imported or legacy data; here
`approve_as` and `record_legacy_expenditure` write them the way such an import would: they
call the aggregates' own `@event` methods past the ledger's check and save through the
application, so the events are well-formed and take positions like any other.

    python -m scripts.anomalies --year 2025 --seed 7 --truth var/ground_truth.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import random
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError

from domain.actors import Actor, Role, Stamp
from domain.balanced_development import CV_THRESHOLD, Indicator, cv_squared
from domain.clock import office_hours, recording_clock
from domain.expenditure import Expenditure, VoucherNumber
from projections.database import ViewDatabase
from projections.findings import as_of
from projections.findings.benchmark import RULES as BENCHMARK_RULES
from projections.findings.benchmark import benchmark_fen, operating_allocated
from projections.findings.facts import catch_up
from projections.findings.rule import Scope
from projections.stock_queries import SchoolOnDay, evaluate

if TYPE_CHECKING:
    from domain.allocation import Allocation
    from domain.fund import Fund
    from domain.ledger import FundLedger


class ViewsKept(Protocol):
    """Views someone else keeps up to date with the ledger (projections.runner.ViewRunner):
    the injector reads their audit facts instead of building its own from the whole log."""

    db: ViewDatabase

    def run_until_caught_up(self) -> int: ...


LEGACY_REASON = "legacy import"
# Names that read like a bureau's own (the demo shows them on the findings page).
INJECTOR_OFFICER = Actor("zhao.lei", frozenset({Role.OFFICER}))  # a second finance officer
INJECTOR_APPROVER = Actor("sun.ping", frozenset({Role.APPROVER}))  # a deputy section chief
INJECTOR_CHECKER = Actor("zhou.yan", frozenset({Role.APPROVER}))  # approves sun.ping's changes
NOT_AN_APPROVER = "chen.hui"  # a clerk whose approval a legacy system accepted
# The funds the injector opens, by tag: (code suffix, name) in the generator's style.
# An injected project fund opens with ¥5,000,000 (a county project line's size, not ¥1000亿)
# and grows in steps of that size only as far as its injected allocations need.
INJECTED_FUND_FEN = 500_000_000
INJECTED_FUNDS: dict[str, tuple[str, str]] = {
    "LEGACY": ("ZB-JSZB", "教育技术装备补助资金"),
    "TRANSFER": ("ZY-JXSB", "上级转移支付教学设备专项资金"),
    "PROJECTS": ("XM-XSWX", "校舍维修改造项目资金"),
    "VENDORS": ("ZB-YQGZ", "教学仪器设备购置资金"),
    "YEAREND": ("ZB-NMZJ", "年末追加教学设备经费"),
    "LATE": ("ZB-JXFZ", "教学辅助设备补助资金"),
    "EQUITY": ("JH-GYJF", "义务教育均衡发展补助公用经费"),
}

# Shares of the generated year, from reference/domain.md §(c); each kind injects at least one.
DEFAULT_RATES: dict[str, float] = {
    "pass_through_late": 0.05,  # of proposed allocations (5–15%)
    "idle_allocation": 0.03,  # of allocations (2–5% of project allocations)
    "below_benchmark": 0.03,  # of compulsory schools (2–5%)
    "teacher_training_share": 0.03,  # of schools with public operating funds
    "december_surge": 0.02,  # of schools that spend
    "maker_checker": 0.002,  # of approvals (0.2%)
    "approval_role": 0.002,  # of approvals
    "duplicate_voucher": 0.003,  # of expenditures (0.1–0.5%)
    "consecutive_invoices": 0.0,  # "a few vendors": see COUNTS
    "round_sum_payment": 0.002,  # of expenditures
    "split_purchase": 0.0,  # see COUNTS
    "purpose_violation": 0.02,  # of public operating allocations (1–4% of earmarked money)
    "difference_coefficient": 0.0,  # one county: see COUNTS
}
SURGE_PIECES_MIN = 5  # enough purchases for the surge rules to judge the school and the fund
COUNTS: dict[str, int] = {"consecutive_invoices": 3, "split_purchase": 2, "difference_coefficient": 1,
                          "backdated_entry": 3}
VENDORS = (
    "徐州鸿达商贸有限公司",
    "江苏恒远教学设备有限公司",
    "徐州新华文具批发部",
    "邳州市佳美办公用品店",
    "睢宁县宏图印刷厂",
    "徐州博学图书有限公司",
    "沛县兴业建材经营部",
    "新沂市明辉电器商行",
)


# ------------------------------------------------------------- legacy records


def approve_as(ledger: FundLedger, allocation_id: UUID, *, actor_id: str, role: str, day: date) -> int:
    """An approval by anyone under any role (e.g. the proposer), as a legacy import would
    carry it; returns its position."""
    allocation: Allocation = ledger.repository.get(allocation_id)
    fund: Fund = ledger.repository.get(allocation.fund_id)
    stamp = Stamp(actor_id, role, day, None, LEGACY_REASON)
    with recording_clock(office_hours(day)):
        allocation._approve(stamp=stamp)
        fund.commit(allocation.id, allocation.allocated, stamp)
    recordings = ledger.save(allocation, fund)
    return recordings[0].notification.id


def record_legacy_expenditure(
    ledger: FundLedger,
    allocation_id: UUID,
    *,
    amount: int,
    payee: str,
    voucher: str,
    spent_on: date,
    economic_class: str,
) -> tuple[UUID, int]:
    """A voucher of any economic class (and possibly a voucher number the school already
    used); returns the expenditure's id and position. Overspending stays impossible: the
    allocation still checks it, since no legacy system paid money that was not there."""
    allocation: Allocation = ledger.repository.get(allocation_id)
    stamp = Stamp("legacy.import", Role.OFFICER.value, spent_on, None, LEGACY_REASON)
    expenditure_id = uuid4()
    with recording_clock(office_hours(spent_on)):
        return _save_legacy_expenditure(ledger, allocation, expenditure_id, stamp, amount=amount,
                                        payee=payee, voucher=voucher,
                                        economic_class=economic_class)


def _save_legacy_expenditure(ledger: FundLedger, allocation: Allocation, expenditure_id: UUID,
                             stamp: Stamp, *, amount: int, payee: str, voucher: str,
                             economic_class: str) -> tuple[UUID, int]:
    spent_on = stamp.effective_date
    allocation.spend(expenditure_id, amount, spent_on, stamp)
    expenditure = Expenditure.record(
        expenditure_id,
        allocation_id=allocation.id,
        fund_code=allocation.fund_code,
        school_code=allocation.school_code,
        fiscal_year=allocation.fiscal_year,
        unit=allocation.unit,
        amount=amount,
        payee=payee,
        voucher=voucher,
        spent_on=spent_on,
        description=LEGACY_REASON,
        economic_class=economic_class,
        stamp=stamp,
    )
    aggregates: list[Any] = [expenditure, allocation]
    register_id = VoucherNumber.id_for(allocation.school_code, allocation.fiscal_year, voucher)
    try:
        ledger.repository.get(register_id)
    except AggregateNotFoundError:
        aggregates.append(
            VoucherNumber.claim(allocation.school_code, allocation.fiscal_year, voucher,
                                expenditure_id)
        )
    recordings = ledger.save(*aggregates)
    position = next(r.notification.id for r in recordings if r.domain_event.originator_id == expenditure_id)
    return expenditure_id, position


# ------------------------------------------------------------------ injection


@dataclass
class Injector:
    """Injects anomalies into one fiscal year of a ledger and keeps the ground truth."""

    ledger: FundLedger
    fiscal_year: int
    rng: random.Random
    rates: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RATES))
    truth: list[dict[str, Any]] = field(default_factory=list)
    used_schools: set[str] = field(default_factory=set)
    session: ViewDatabase = field(default_factory=ViewDatabase.in_memory)
    opened_on: dict[str, date] = field(default_factory=dict)  # the injected funds
    views: ViewsKept | None = None  # when set, `session` is their database

    def __post_init__(self) -> None:
        if self.views is not None:
            self.session.close()
            self.session = self.views.db

    def day(self, month: int, day: int) -> date:
        return date(self.fiscal_year, month, day)

    def count(self, kind: str, population: int) -> int:
        if kind in COUNTS:
            return COUNTS[kind]
        return max(1, math.ceil(self.rates[kind] * population)) if population else 0

    def note(self, rule: str, key: dict[str, Any], detail: str) -> None:
        self.truth.append({"rule": rule, "fiscal_year": self.fiscal_year, "key": key, "detail": detail})

    def refresh(self) -> Scope:
        if self.views is None:
            catch_up(self.session, self.ledger)
        else:
            self.views.run_until_caught_up()  # only what the injector added since
        return Scope.year_end(self.fiscal_year)

    def amount(self, low_yuan: int, high_yuan: int) -> int:
        """A payment in fen that is neither round nor just under the procurement threshold."""
        while True:
            fen = self.rng.randrange(low_yuan * 100, high_yuan * 100) + self.rng.randrange(1, 100)
            if fen % 100_000 and not 9_000_000 <= fen < 10_000_000:
                return fen

    def voucher(self) -> str:
        return f"FP{self.rng.randrange(10**9, 10**10)}"

    def on(self, day: date) -> AbstractContextManager[None]:
        """Entries recorded on their own business day, in office hours (the backdating
        finding reads recording times; only `backdating` records late on purpose)."""
        return recording_clock(office_hours(day))

    def open_fund(self, tag: str, category: str, opened_on: date) -> str:
        """A project fund of a realistic size (INJECTED_FUND_FEN); `allocate` raises its
        appropriation as the injected allocations need, dated on the day it was opened, so
        the money's receipt date (which the pass-through rule counts from) stays that day."""
        suffix, name = INJECTED_FUNDS[tag]
        code = f"{self.fiscal_year}-{suffix}"
        with self.on(opened_on):
            self._open_fund(code, name, category, opened_on)
        self.opened_on[code] = opened_on
        return code

    def _open_fund(self, code: str, name: str, category: str, opened_on: date) -> None:
        self.ledger.open_fund(
            INJECTOR_OFFICER,
            code=code,
            name=f"{self.fiscal_year}年{name}",
            fiscal_year=self.fiscal_year,
            unit="CNY",
            amount=INJECTED_FUND_FEN,
            # A provincial project transfer (专项): the pass-through rule allows it 60 days
            # (预算法 art. 52), so only the injected late ones are late.
            source="provincial",
            category=category,
            doc_no=f"苏财教〔{self.fiscal_year}〕{90 + len(self.opened_on)}号",
            effective_date=opened_on,
        )

    def _cover(self, fund: str, amount: int) -> None:
        available = self.ledger.get_fund(fund).available
        if fund in self.opened_on and amount > available:
            step = INJECTED_FUND_FEN
            delta = -(-(amount - available) // step) * step  # in whole steps of the fund's size
            with self.on(self.opened_on[fund]):
                made = self.ledger.adjust_fund(INJECTOR_APPROVER, fund, delta=delta,
                                               reason="supplementary appropriation (追加预算)",
                                               effective_date=self.opened_on[fund])
                # Moving approved money takes a second person (maker-checker).
                self.ledger.approve_change(INJECTOR_CHECKER, made.subject.id)

    def allocate(
        self, fund: str, school: str, amount: int, proposed_on: date, approved_on: date | None
    ) -> UUID:
        self._cover(fund, amount)
        with self.on(proposed_on):
            outcome = self.ledger.propose_allocation(
                INJECTOR_OFFICER,
                fund=fund,
                school=school,
                amount=amount,
                purpose="project",
                effective_date=proposed_on,
            )
        if approved_on is not None:
            with self.on(approved_on):
                self.ledger.approve_allocation(INJECTOR_APPROVER, outcome.subject.id,
                                               effective_date=approved_on)
        return outcome.subject.id

    def spend(
        self,
        allocation: UUID,
        amount: int,
        spent_on: date,
        payee: str | None = None,
        voucher: str | None = None,
        economic_class: str | None = None,
    ) -> UUID:
        with self.on(spent_on):
            outcome = self.ledger.record_expenditure(
                INJECTOR_OFFICER,
                allocation=allocation,
                amount=amount,
                payee=payee or self.rng.choice(VENDORS),
                voucher=voucher or self.voucher(),
                spent_on=spent_on,
                economic_class=economic_class,
            )
        return outcome.subject.id

    def pick_schools(self, candidates: list[str], k: int) -> list[str]:
        fresh = sorted(set(candidates) - self.used_schools)
        chosen = self.rng.sample(fresh, min(k, len(fresh)))
        self.used_schools.update(chosen)
        return chosen


# ------------------------------------------------------------------- the kinds


def _public_operating(inj: Injector, scope: Scope) -> dict[str, list[dict[str, Any]]]:
    """Each school's approved public operating CNY allocations."""
    by_school: dict[str, list[dict[str, Any]]] = {}
    for row in as_of.allocations(inj.session, scope):
        if row["category"] == "public_operating" and row["unit"] == "CNY" and row["decision"] == "approved":
            by_school.setdefault(row["school_code"], []).append(row)
    return by_school


def _training_spent(inj: Injector, scope: Scope) -> dict[str, int]:
    spent: dict[str, int] = {}
    funds = as_of.funds(inj.session)
    for x in as_of.expenditures(inj.session, scope):
        if funds[x["fund_code"]].category == "public_operating" and x["economic_class"] == "training":
            spent[x["school_code"]] = spent.get(x["school_code"], 0) + x["amount"]
    return spent


def below_benchmark(inj: Injector) -> None:
    """Enrolment grows at compliant schools (a recount after the autumn intake, in October) and
    their funding does not follow: 5% more pupils than the allocation covers at the benchmark."""
    scope = inj.refresh()
    params = BENCHMARK_RULES[0].params
    floor = int(params["small_school_floor_students"])
    budgets = operating_allocated(inj.session, scope, "public_operating")
    schools = as_of.schools_on(inj.session, scope)
    candidates = []
    for code, school in schools.items():
        rate = benchmark_fen(school.level, params)
        if rate and school.students and budgets.get(code, (0, []))[0] >= rate * max(school.students, floor):
            candidates.append(code)
    for code in inj.pick_schools(candidates, inj.count("below_benchmark", len(candidates))):
        rate = benchmark_fen(schools[code].level, params)
        assert rate is not None
        students = budgets[code][0] * 105 // (100 * rate) + 1
        # After the school's own autumn report, or that report would supersede this one.
        ((latest,),) = inj.session.rows(
            "SELECT MAX(effective_date) FROM findings_school_history WHERE school_code = ?", (code,))
        on = max(date.fromisoformat(latest) + timedelta(days=1), inj.day(10, 8))
        inj.ledger.report_enrolment(INJECTOR_OFFICER, code, students=students, effective_date=on,
                                    reason="recount after the autumn intake")
        inj.note("below_benchmark", {"school": code},
                 f"enrolment {schools[code].students} → {students} on {on}; funding unchanged")


def training_share(inj: Injector) -> None:
    """Raises compliant schools' public operating budgets so their training share falls to ~3%."""
    scope = inj.refresh()
    budgets = operating_allocated(inj.session, scope, "public_operating")
    training = _training_spent(inj, scope)
    allocations = _public_operating(inj, scope)
    candidates = [
        code for code, (budget, _) in budgets.items() if budget and training.get(code, 0) * 20 >= budget
    ]
    for code in inj.pick_schools(candidates, inj.count("teacher_training_share", len(candidates))):
        budget, spent = budgets[code][0], training.get(code, 0)
        delta = spent * 100 // 3 - budget + 1  # training becomes about 3% of the budget
        row = max(allocations[code], key=lambda r: r["allocated"])
        fund = row["fund_code"]
        # Two-person changes (domain/change.py): each is approved by a second person.
        with inj.on(inj.day(11, 16)):
            made = inj.ledger.adjust_fund(
                INJECTOR_APPROVER,
                fund,
                delta=delta,
                reason="supplementary appropriation",
                effective_date=inj.day(11, 16),
            )
            inj.ledger.approve_change(INJECTOR_CHECKER, made.subject.id)
        with inj.on(inj.day(11, 17)):
            made = inj.ledger.adjust_allocation(
                INJECTOR_APPROVER,
                UUID(row["allocation_id"]),
                delta=delta,
                reason="supplementary allocation",
                effective_date=inj.day(11, 17),
            )
            inj.ledger.approve_change(INJECTOR_CHECKER, made.subject.id)
        inj.note(
            "teacher_training_share", {"school": code}, f"budget raised by {delta} fen; training {spent} fen"
        )


def county_inequity(inj: Injector) -> None:
    """Delivers so much teaching equipment to the smallest school of a balanced county and
    stage (one flagship school equipped, the rest not) that the county's difference
    coefficient of equipment value per pupil exceeds the threshold (教督〔2017〕6号)."""
    from projections.findings.rural_equity import RULES as EQUITY_RULES  # noqa: PLC0415

    schools_min = int(EQUITY_RULES[0].params["schools_min"])
    scope = inj.refresh()
    schools = [SchoolOnDay(code, code, s.district, s.level, s.locale, s.students)
               for code, s in sorted(as_of.schools_on(inj.session, scope).items())]
    balanced = []
    for county in evaluate(inj.session, scope.as_of, schools=schools):
        for stage in county.stages:
            members = [r.part for r in stage.schools]
            pairs = _equipment(members)
            limit = CV_THRESHOLD[stage.stage]
            squared = cv_squared(pairs)
            if (len(members) >= schools_min and squared is not None
                    and squared < (limit - Fraction(1, 10)) ** 2
                    and not {p.school.code for p in members} & inj.used_schools
                    and all(a for _, a in pairs)):
                balanced.append((county.district, stage.stage, limit, members))
    for district, stage, limit, members in inj.rng.sample(
        balanced, min(COUNTS["difference_coefficient"], len(balanced))
    ):
        target = min(members, key=lambda p: p.school.pupils).school
        held = target.stocks[Indicator.EQUIPMENT_VALUE] or 0
        extra = max(held, 100_000_00)
        while True:
            squared = cv_squared(_equipment(members, target.code, extra))
            if squared is not None and squared > (limit + Fraction(15, 100)) ** 2:
                break
            extra *= 2
        inj.ledger.receive_assets(INJECTOR_OFFICER, target.code, asset="teaching_equipment",
                                  quantity=max(1, extra // 500_000), value=extra,
                                  document="上级直接配发（示范校）", effective_date=inj.day(11, 12))
        inj.used_schools.update(p.school.code for p in members)
        inj.note(
            "difference_coefficient",
            {"district": district, "level": stage.value, "indicator": "equipment_value"},
            f"{target.code} ({target.pupils} pupils) received teaching equipment worth {extra} fen",
        )


def _equipment(parts: list[Any], target: str = "", extra: int = 0) -> list[tuple[int, Fraction]]:
    """(pupils, equipment value) of each school part, with `extra` fen more at `target`."""
    pairs = []
    for part in parts:
        value = (part.school.stocks[Indicator.EQUIPMENT_VALUE] or 0) + (
            extra if part.school.code == target else 0)
        pairs.append((part.pupils, Fraction(value * part.pupils, part.school.pupils)))
    return pairs


def purpose_violation(inj: Injector) -> None:
    """Legacy vouchers of salaries, construction or debt charged to public operating funds."""
    scope = inj.refresh()
    rows = [
        r
        for school, rows in _public_operating(inj, scope).items()
        if school not in inj.used_schools
        for r in rows
        if r["allocated"] - r["spent"] >= 200_000
    ]
    for row in inj.rng.sample(rows, min(len(rows), inj.count("purpose_violation", len(rows)))):
        amount = min(row["allocated"] - row["spent"] - 1, inj.amount(2_000, 30_000))
        start = max(date.fromisoformat(row["decided_on"]), inj.day(4, 1))
        spent_on = start + timedelta(days=inj.rng.randrange(max(1, (inj.day(10, 31) - start).days)))
        klass = inj.rng.choice(("salaries", "construction", "debt_repayment"))
        expenditure_id, _ = record_legacy_expenditure(
            inj.ledger,
            UUID(row["allocation_id"]),
            amount=amount,
            payee=inj.rng.choice(VENDORS),
            voucher=inj.voucher(),
            spent_on=spent_on,
            economic_class=klass,
        )
        inj.note(
            "purpose_violation",
            {"expenditure_id": str(expenditure_id)},
            f"{klass} charged to {row['fund_code']}",
        )


def _open_schools(inj: Injector) -> list[str]:
    return sorted(as_of.schools_on(inj.session, inj.refresh()))


def maker_checker(inj: Injector) -> None:
    """Legacy approvals by the proposer, and by someone not acting as approver; all spent at once."""
    scope = inj.refresh()
    approvals = sum(1 for r in as_of.allocations(inj.session, scope) if r["decision"] == "approved")
    schools = _open_schools(inj)
    fund = inj.open_fund("LEGACY", "equipment", inj.day(4, 1))
    for rule, approver, role in (
        ("maker_checker", INJECTOR_OFFICER.user_id, "approver"),
        ("approval_role", NOT_AN_APPROVER, "officer"),
    ):
        for _ in range(inj.count(rule, approvals)):
            amount = inj.amount(5_000, 60_000)
            allocation = inj.allocate(fund, inj.rng.choice(schools), amount, inj.day(4, 3), None)
            approve_as(inj.ledger, allocation, actor_id=approver, role=role, day=inj.day(4, 6))
            inj.spend(allocation, amount, inj.day(4, 20), economic_class="equipment")
            inj.note(rule, {"allocation_id": str(allocation)}, f"approved by {approver} as {role}")


def late_pass_through(inj: Injector) -> None:
    """Allocations of a transfer received on 2 March, approved 75–120 days later; spent at once."""
    scope = inj.refresh()
    proposals = sum(1 for r in as_of.allocations(inj.session, scope) if r["origin"] == "proposal")
    schools = _open_schools(inj)
    received = inj.day(3, 2)
    fund = inj.open_fund("TRANSFER", "equipment", received)
    for _ in range(inj.count("pass_through_late", proposals)):
        amount = inj.amount(20_000, 80_000)
        approved = received + timedelta(days=inj.rng.randint(75, 120))
        allocation = inj.allocate(
            fund, inj.rng.choice(schools), amount, received + timedelta(days=inj.rng.randint(5, 40)), approved
        )
        inj.spend(
            allocation, amount, approved + timedelta(days=inj.rng.randint(3, 20)), economic_class="equipment"
        )
        inj.note(
            "pass_through_late",
            {"allocation_id": str(allocation)},
            f"approved {(approved - received).days} days after receipt",
        )


def idle_allocation(inj: Injector) -> None:
    """Project allocations approved in January and never spent."""
    scope = inj.refresh()
    population = len(as_of.allocations(inj.session, scope))
    schools = _open_schools(inj)
    fund = inj.open_fund("PROJECTS", "equipment", inj.day(1, 6))
    for _ in range(inj.count("idle_allocation", population)):
        proposed = inj.day(1, 6) + timedelta(days=inj.rng.randint(2, 20))
        allocation = inj.allocate(
            fund,
            inj.rng.choice(schools),
            inj.amount(50_000, 300_000),
            proposed,
            proposed + timedelta(days=inj.rng.randint(2, 20)),
        )
        inj.note("idle_allocation", {"allocation_id": str(allocation)}, "approved in January, never spent")


def backdated_entry(inj: Injector) -> None:
    """A few vouchers booked 45–120 days after the day they say they were spent (补记): the
    clerk records them late, dated back into an earlier month."""
    schools = _open_schools(inj)
    fund = inj.open_fund("LATE", "equipment", inj.day(3, 2))
    for _ in range(inj.count("backdated_entry", 0)):
        proposed = inj.day(3, 9) + timedelta(days=inj.rng.randint(0, 10))
        amount = inj.amount(20_000, 80_000)
        allocation = inj.allocate(fund, inj.rng.choice(schools), amount, proposed,
                                  proposed + timedelta(days=3))
        spent_on = inj.day(inj.rng.randint(4, 8), inj.rng.randint(1, 28))
        late = inj.rng.randint(45, 120)
        with recording_clock(office_hours(spent_on + timedelta(days=late))):
            outcome = inj.ledger.record_expenditure(
                INJECTOR_OFFICER, allocation=allocation, amount=amount,
                payee=inj.rng.choice(VENDORS), voucher=inj.voucher(), spent_on=spent_on)
        inj.note("backdated_entry",
                 {"entity_id": str(outcome.subject.id), "event": "Expenditure.Recorded"},
                 f"spent on {spent_on}, recorded {late} days later")


def vendor_patterns(inj: Injector) -> None:
    """Duplicate vouchers, consecutive invoices across schools, round sums and split purchases,
    each paid from its own allocation sized to what it pays (so nothing stays idle)."""
    scope = inj.refresh()
    spent_count = len(as_of.expenditures(inj.session, scope))
    schools = _open_schools(inj)
    fund = inj.open_fund("VENDORS", "equipment", inj.day(2, 3))

    def pay(school: str, payments: list[tuple[int, date, str, str]]) -> list[UUID]:
        allocation = inj.allocate(fund, school, sum(p[0] for p in payments), inj.day(2, 6), inj.day(2, 10))
        return [
            inj.spend(allocation, amount, day, payee, voucher, "equipment")
            for amount, day, payee, voucher in payments
        ]

    def some_day() -> date:
        return inj.day(3, 1) + timedelta(days=inj.rng.randrange(200))

    for _ in range(inj.count("duplicate_voucher", spent_count)):
        payee, voucher = inj.rng.choice(VENDORS), inj.voucher()
        for school in inj.rng.sample(schools, 2):
            pay(school, [(inj.amount(1_000, 20_000), some_day(), payee, voucher)])
        inj.note("duplicate_voucher", {"payee": payee, "voucher": voucher}, "one invoice paid at two schools")
    for i in range(inj.count("consecutive_invoices", 0)):
        payee, first = VENDORS[i % len(VENDORS)], inj.rng.randrange(10**9, 10**10 - 10)
        for offset, school in enumerate(inj.rng.sample(schools, 3)):
            pay(school, [(inj.amount(1_000, 20_000), some_day(), payee, f"FP{first + offset}")])
        inj.note(
            "consecutive_invoices",
            {"payee": payee, "first_voucher": f"FP{first}"},
            "three schools, one invoice pad",
        )
    for _ in range(inj.count("round_sum_payment", spent_count)):
        (expenditure,) = pay(
            inj.rng.choice(schools),
            [(inj.rng.randint(1, 8) * 1_000_000, some_day(), inj.rng.choice(VENDORS), inj.voucher())],
        )
        inj.note("round_sum_payment", {"expenditure_id": str(expenditure)}, "a whole multiple of ¥10,000")
    for _ in range(inj.count("split_purchase", 0)):
        school, payee, start = inj.rng.choice(schools), inj.rng.choice(VENDORS), some_day()
        parts = [
            (inj.rng.randrange(9_000_001, 9_999_999), start + timedelta(days=7 * k), payee, inj.voucher())
            for k in range(inj.rng.randint(2, 3))
        ]
        pay(school, [(amount if amount % 100_000 else amount + 1, *rest) for amount, *rest in parts])
        inj.note(
            "split_purchase", {"school": school, "payee": payee}, f"{len(parts)} payments just under ¥100,000"
        )


def december_surge(inj: Injector) -> None:
    """Year-end purchases in the last ten days that lift a school's December share above 65%."""
    from projections.findings.december_surge import RULES as SURGE_RULES  # noqa: PLC0415

    scope = inj.refresh()
    totals: dict[str, list[int]] = {}
    for x in as_of.expenditures(inj.session, scope):
        if x["unit"] == "CNY":
            entry = totals.setdefault(x["school_code"], [0, 0, 0])
            entry[0] += x["amount"]
            entry[1] += x["amount"] if x["spent_on"] >= f"{inj.fiscal_year}-12-01" else 0
            entry[2] += 1
    least = int(SURGE_RULES[0].params["expenditures_min"])
    candidates = [c for c, (t, d, n) in totals.items() if n >= least and d * 10 < t * 4]
    fund = None
    for school in inj.pick_schools(candidates, inj.count("december_surge", len(candidates))):
        total, december, _ = totals[school]
        needed, pieces = (65 * total - 100 * december) // 35 + 1, []
        while sum(pieces) < needed or len(pieces) < SURGE_PIECES_MIN:
            pieces.append(inj.amount(100_001, 250_000))
        fund = fund or inj.open_fund("YEAREND", "equipment", inj.day(11, 24))
        allocation = inj.allocate(fund, school, sum(pieces), inj.day(11, 28), inj.day(12, 1))
        for amount in pieces:
            inj.spend(allocation, amount, inj.day(12, inj.rng.randint(22, 30)), economic_class="equipment")
        inj.note(
            "december_surge", {"school": school}, f"{len(pieces)} purchases in the last ten days of December"
        )
    if fund is not None:
        inj.note("december_surge_fund", {"fund": fund}, "a fund opened in November, spent in late December")


def inject(
    ledger: FundLedger, fiscal_year: int, seed: int = 7, rates: dict[str, float] | None = None,
    views: ViewsKept | None = None,
) -> list[dict[str, Any]]:
    """Injects every kind of anomaly into the year; returns the ground truth. `views`: the
    store's own views, caught up already (or about to be), which the injector then reads
    instead of decoding the whole log a second time into a private database."""
    injector = Injector(ledger, fiscal_year, random.Random(seed), {**DEFAULT_RATES, **(rates or {})},
                        views=views)
    # Kinds that change schools' public operating budgets come first, the surge last: each
    # works on schools no earlier kind touched, so no anomaly masks or fakes another.
    for kind in (
        below_benchmark,
        training_share,
        county_inequity,
        purpose_violation,
        maker_checker,
        late_pass_through,
        idle_allocation,
        vendor_patterns,
        backdated_entry,
        december_surge,
    ):
        kind(injector)
    return injector.truth


def write_truth(truth: list[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for line in truth:
            out.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--truth", type=Path, default=Path("var/ground_truth.jsonl"))
    args = parser.parse_args()
    from api.settings import Settings  # noqa: PLC0415
    from api.store import open_ledger  # noqa: PLC0415

    ledger = open_ledger(Settings(), clock=lambda: date(args.year, 12, 31))
    try:
        truth = inject(ledger, args.year, args.seed)
    finally:
        ledger.close()
    write_truth(truth, args.truth)
    print(f"injected {len(truth)} anomalies; ground truth in {args.truth}")


if __name__ == "__main__":
    main()
