"""The benchmark's workload: generated Xuzhou fiscal years (scripts.generator), then a
benchmark fund with one approved allocation per school that the write measurements spend from.

The generated books are what the views, reads, verify and beancount measure; the benchmark
fund gives every write a valid target whose remainder never runs out, so a write measurement
measures writing, not refusals.

One year holds at most about 2.7 million events (all of Xuzhou's schools at the busiest
voucher rate, YearCap). A run that asks for more generates the years before FISCAL_YEAR as a
bureau lives them: the oldest year first, each closed into the next (结转 and 结余, the carried
money spent from January to April, scripts/generator/year_end.py), the next generated as a
following year onto the same store (scripts/generator/following.py), up to FISCAL_YEAR. The
years go back from FISCAL_YEAR rather than forward from it because nothing may be dated after
the bureau's today: FISCAL_YEAR stays the last, complete and open year, the one every part
writes to, reads and closes, whatever the count.
"""

from __future__ import annotations

import itertools
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from domain.actors import Actor, Role
from domain.ledger import FundLedger, Outcome
from scripts.generator import generate
from scripts.generator.geography import preset_named
from scripts.generator.plan import stream
from scripts.generator.schools import draw_schools
from scripts.generator.year_end import close_generated_year

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
# A year generated after a closed one registers no school and sets up no stock, but its
# close adds the carried money's vouchers: about EVENTS_PER_SCHOOL_FOLLOWING per school
# besides the vouchers (measured at seed 20250101, scale 0.05, 40 vouchers a month).
EVENTS_PER_SCHOOL_FOLLOWING = 130.0
YEARS_MAX = 10  # 2016–2025: the generator's calendar and the CLI's 20,000,000 events fit
BENCH_FUND = "BENCH-2025-OPERATING"
BENCH_ALLOCATION_MINOR = 10**11  # a billion yuan each: the writes never exhaust it
SETUP_BATCH_COMMANDS_MAX = 1000
SPENT_ON = date(FISCAL_YEAR, 12, 15)
# The benchmark fund exists from the year's first working day, so every write date is valid.
OPENED_ON = date(FISCAL_YEAR, 1, 2)

OFFICER = Actor("bench.officer", frozenset({Role.OFFICER}))
APPROVER = Actor("bench.approver", frozenset({Role.APPROVER}))


class TooManyEvents(ValueError):
    """More events asked than YEARS_MAX years at the cap can give: refused before any store
    is made."""


@dataclass(frozen=True)
class YearCap:
    """The biggest year the bench generates: `scale` of Xuzhou's schools at most
    `vouchers_per_school_month` vouchers each a month. A smaller cap makes a toy run of
    several years (the smoke test)."""

    scale: float = 1.0
    vouchers_per_school_month: float = VOUCHERS_PER_SCHOOL_MONTH_MAX

    @property
    def events(self) -> int:
        """About how many events one year at the cap gives."""
        return round(SCHOOLS_FULL * self.scale
                     * (EVENTS_PER_SCHOOL_FIXED + EVENTS_PER_VOUCHER_RATE * self.vouchers_per_school_month))


@dataclass(frozen=True)
class Shape:
    """How big a year to generate for about `events` events."""

    scale: float
    vouchers_per_school_month: float

    @classmethod
    def for_events(cls, events: float, cap: YearCap = YearCap()) -> Shape:
        per_school_min = EVENTS_PER_SCHOOL_FIXED + EVENTS_PER_VOUCHER_RATE * VOUCHERS_PER_SCHOOL_MONTH_MIN
        if events >= SCHOOLS_FULL * cap.scale * per_school_min:
            # All of the cap's schools; more vouchers a month for more events.
            return cls.at_scale(events, cap.scale, cap, EVENTS_PER_SCHOOL_FIXED)
        # Fewer schools (a quick run): the same year at a smaller scale.
        return cls(max(0.01, round(events / (SCHOOLS_FULL * per_school_min), 3)),
                   VOUCHERS_PER_SCHOOL_MONTH_MIN)

    @classmethod
    def at_scale(cls, events: float, scale: float, cap: YearCap,
                 per_school_fixed: float = EVENTS_PER_SCHOOL_FOLLOWING) -> Shape:
        """A year of the schools already registered at `scale` (a following year keeps them):
        only the vouchers a month follow the events, within the cap."""
        rate = (events / (SCHOOLS_FULL * scale) - per_school_fixed) / EVENTS_PER_VOUCHER_RATE
        return cls(scale, round(min(max(rate, VOUCHERS_PER_SCHOOL_MONTH_MIN),
                                    cap.vouchers_per_school_month), 2))


def fiscal_years(events: int, cap: YearCap = YearCap()) -> list[int]:
    """The fiscal years generated for about `events` events, oldest first: FISCAL_YEAR alone
    when one year at the cap holds them, else as many years before it as it takes."""
    count = max(1, math.ceil(events / cap.events))
    if count > YEARS_MAX:
        msg = (f"{events:,} events asked: at most {YEARS_MAX} fiscal years of about "
               f"{cap.events:,} events each (about {YEARS_MAX * cap.events:,}) can be generated")
        raise TooManyEvents(msg)
    return list(range(FISCAL_YEAR - count + 1, FISCAL_YEAR + 1))


@dataclass(frozen=True)
class YearGenerated:
    """One fiscal year as generated: its events and seconds include its close into the next
    year (the carried money's vouchers too), when it was closed."""

    fiscal_year: int
    shape: Shape
    events: int
    seconds: float
    cpu_seconds: float  # this process's: the PostgreSQL server's CPU is not in it
    closed: bool


@dataclass
class Workload:
    """What was generated, and the benchmark fund's allocations to spend from."""

    years: list[YearGenerated]
    school_codes: list[str]
    allocations: list[UUID] = field(default_factory=list)
    officer_token: str = ""
    fund_codes: list[str] = field(default_factory=list)  # FISCAL_YEAR's generated and the bench's
    run_tag: str = field(default_factory=lambda: f"{random.randrange(16**6):06x}")
    _serial: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def events(self) -> int:
        """Events generated, every year and close included (the benchmark fund's not)."""
        return sum(year.events for year in self.years)

    @property
    def seconds(self) -> float:
        return sum(year.seconds for year in self.years)

    @property
    def shape(self) -> Shape:
        """FISCAL_YEAR's, the year the parts write to and read."""
        return self.years[-1].shape

    def span(self) -> str:
        """`fiscal year 2025` or `4 fiscal years 2022–2025`."""
        first, last = self.years[0].fiscal_year, self.years[-1].fiscal_year
        return (f"fiscal year {last}" if first == last
                else f"{len(self.years)} fiscal years {first}–{last}")

    def expenditure(self, ledger: FundLedger, rng: random.Random) -> Callable[[], Outcome]:
        """A valid record_expenditure command on a random benchmark allocation."""
        allocation = rng.choice(self.allocations)
        voucher = f"BX{self.run_tag}-{next(self._serial)}"
        amount = rng.randint(100, 99_999)
        return lambda: ledger.record_expenditure(
            OFFICER, allocation=allocation, amount=amount, payee="徐州市教学用品供应站",
            voucher=voucher, spent_on=SPENT_ON, description="benchmark")


def generate_years(ledger: FundLedger, events: int, cap: YearCap = YearCap(),
                   say: Callable[[str], None] = lambda _: None) -> Workload:
    """Writes the generated years (the generator batches each day's commands), each closed
    into the next, and the benchmark fund in FISCAL_YEAR; the generation's own events/s is
    the bulk import figure. What is left to generate is spread over the years still to come,
    so the years are about equal and the count lands near `events` whatever the estimates;
    the count reported is the store's."""
    years = fiscal_years(events, cap)
    done: list[YearGenerated] = []
    fund_codes: list[str] = []  # the last year's: FISCAL_YEAR's
    first_shape = Shape.for_events(events / len(years), cap)
    for index, year in enumerate(years):
        left = max(events - sum(y.events for y in done), 0) / (len(years) - index)
        shape = first_shape if index == 0 else Shape.at_scale(left, first_shape.scale, cap)
        started, cpu, first = time.perf_counter(), time.process_time(), ledger.last_position()
        summary = generate(ledger, preset=PRESET, seed=SEED, fiscal_year=year,
                           scale=shape.scale, following=index > 0,
                           expenditures_per_school_month=shape.vouchers_per_school_month)
        fund_codes = summary.fund_codes
        closed = year < FISCAL_YEAR
        if closed:  # the bureau closes it in January, then lives the next year
            close_generated_year(ledger, year, summary.fund_codes, seed=SEED)
        done.append(YearGenerated(year, shape, ledger.last_position() - first,
                                  time.perf_counter() - started, time.process_time() - cpu, closed))
        say(_year_line(done[-1]))
    bureau = preset_named(PRESET)
    schools = draw_schools(bureau, first_shape.scale, stream(SEED, PRESET, years[0], "schools"))
    workload = Workload(done, [s.code for s in schools],
                        fund_codes=[*fund_codes, BENCH_FUND])
    _open_bench_fund(ledger, workload)
    return workload


def _year_line(year: YearGenerated) -> str:
    return (f"{year.fiscal_year}: {year.events:,} events in {year.seconds:.1f} s, CPU "
            f"{year.cpu_seconds:.1f} s ({year.events / max(year.seconds, 1e-9):,.0f} events/s, "
            f"load {os.getloadavg()[0]:.1f}, scale {year.shape.scale}, "
            f"{year.shape.vouchers_per_school_month} vouchers/school/month"
            + (", closed into the next" if year.closed else "") + ")")


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
