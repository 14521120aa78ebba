"""The benchmark's workload: a generated Xuzhou fiscal year (scripts.generator), then a
benchmark fund with one approved allocation per school that the write measurements spend from.

The generator's year is what the views, reads, verify and beancount measure; the benchmark
fund gives every write a valid target whose remainder never runs out, so a write measurement
measures writing, not refusals.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from domain.actors import Actor, Role
from domain.ledger import FundLedger, Outcome
from scripts.generator import generate, plan_year

PRESET = "xuzhou"
SEED = 20250101
FISCAL_YEAR = 2025
SCHOOLS_FULL = 2000  # Xuzhou: about 2,000 schools
# Events the generator writes per school: about EVENTS_PER_SCHOOL_FIXED for the year's schools,
# funds and allocations, plus EVENTS_PER_VOUCHER_RATE for each voucher per school and month
# (measured at seed 20250101; a run reports the events it really wrote).
EVENTS_PER_SCHOOL_FIXED = 130.0
EVENTS_PER_VOUCHER_RATE = 30.5
VOUCHERS_PER_SCHOOL_MONTH_MIN = 1.0
VOUCHERS_PER_SCHOOL_MONTH_MAX = 40.0
BENCH_FUND = "BENCH-2025-OPERATING"
BENCH_ALLOCATION_MINOR = 10**11  # a billion yuan each: the writes never exhaust it
SETUP_BATCH_COMMANDS_MAX = 1000
SPENT_ON = date(FISCAL_YEAR, 12, 15)
# The benchmark fund exists from the year's first working day, so every write date is valid.
OPENED_ON = date(FISCAL_YEAR, 1, 2)

OFFICER = Actor("bench.officer", frozenset({Role.OFFICER}))
APPROVER = Actor("bench.approver", frozenset({Role.APPROVER}))


@dataclass(frozen=True)
class Shape:
    """How big a year to generate for about `events` events."""

    scale: float
    vouchers_per_school_month: float

    @classmethod
    def for_events(cls, events: int) -> Shape:
        per_school_min = EVENTS_PER_SCHOOL_FIXED + EVENTS_PER_VOUCHER_RATE * VOUCHERS_PER_SCHOOL_MONTH_MIN
        if events >= SCHOOLS_FULL * per_school_min:
            # All of Xuzhou's schools; more vouchers a month for more events.
            rate = (events / SCHOOLS_FULL - EVENTS_PER_SCHOOL_FIXED) / EVENTS_PER_VOUCHER_RATE
            return cls(1.0, round(min(rate, VOUCHERS_PER_SCHOOL_MONTH_MAX), 2))
        # Fewer schools (a quick run): the same year at a smaller scale.
        return cls(max(0.01, round(events / (SCHOOLS_FULL * per_school_min), 3)),
                   VOUCHERS_PER_SCHOOL_MONTH_MIN)


@dataclass
class Workload:
    """What was generated, and the benchmark fund's allocations to spend from."""

    shape: Shape
    school_codes: list[str]
    events: int
    seconds: float
    allocations: list[UUID] = field(default_factory=list)
    officer_token: str = ""
    fund_codes: list[str] = field(default_factory=list)  # the generated year's and the bench's
    run_tag: str = field(default_factory=lambda: f"{random.randrange(16**6):06x}")
    _serial: itertools.count[int] = field(default_factory=itertools.count)

    def expenditure(self, ledger: FundLedger, rng: random.Random) -> Callable[[], Outcome]:
        """A valid record_expenditure command on a random benchmark allocation."""
        allocation = rng.choice(self.allocations)
        voucher = f"BX{self.run_tag}-{next(self._serial)}"
        amount = rng.randint(100, 99_999)
        return lambda: ledger.record_expenditure(
            OFFICER, allocation=allocation, amount=amount, payee="徐州市教学用品供应站",
            voucher=voucher, spent_on=SPENT_ON, description="benchmark")


def generate_year(ledger: FundLedger, events: int) -> Workload:
    """Writes the generated year (the generator batches each day's commands) and the benchmark
    fund; the generation's own events/s is the bulk import figure."""
    shape = Shape.for_events(events)
    schools = plan_year(preset=PRESET, seed=SEED, fiscal_year=FISCAL_YEAR, scale=shape.scale,
                        today=ledger.today(),
                        expenditures_per_school_month=shape.vouchers_per_school_month).schools
    started = time.perf_counter()
    summary = generate(ledger, preset=PRESET, seed=SEED, fiscal_year=FISCAL_YEAR,
                       scale=shape.scale,
                       expenditures_per_school_month=shape.vouchers_per_school_month)
    seconds = time.perf_counter() - started
    workload = Workload(shape, [s.code for s in schools], summary.events, seconds,
                        fund_codes=[*summary.fund_codes, BENCH_FUND])
    _open_bench_fund(ledger, workload)
    return workload


def _open_bench_fund(ledger: FundLedger, workload: Workload) -> None:
    ledger.open_fund(OFFICER, code=BENCH_FUND, name="徐州市教育局基准测试公用经费",
                     fiscal_year=FISCAL_YEAR, unit="CNY",
                     amount=BENCH_ALLOCATION_MINOR * len(workload.school_codes),
                     source="municipal", category="public_operating",
                     effective_date=OPENED_ON)
    proposed: list[Outcome] = []
    for start in range(0, len(workload.school_codes), SETUP_BATCH_COMMANDS_MAX):
        with ledger.batch():
            proposed += [ledger.propose_allocation(OFFICER, fund=BENCH_FUND, school=code,
                                                   amount=BENCH_ALLOCATION_MINOR,
                                                   purpose="benchmark writes",
                                                   effective_date=OPENED_ON)
                         for code in workload.school_codes[start:start + SETUP_BATCH_COMMANDS_MAX]]
    ids = [outcome.subject.id for outcome in proposed]
    for start in range(0, len(ids), SETUP_BATCH_COMMANDS_MAX):
        with ledger.batch():
            for allocation_id in ids[start:start + SETUP_BATCH_COMMANDS_MAX]:
                ledger.approve_allocation(APPROVER, allocation_id, effective_date=OPENED_ON)
    workload.allocations = ids
    workload.officer_token = ledger.add_user(OFFICER.user_id, [Role.OFFICER.value])
