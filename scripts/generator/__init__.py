"""A seeded, realistic fiscal year of an education bureau, written through the ledger's own
commands (DESIGN §10; reference/domain.md §(c)).

    from scripts.generator import generate
    summary = generate(ledger, preset="xuzhou", seed=20250101, fiscal_year=2025, scale=0.05)

The same seed, preset, year and scale give the same commands in the same order. The year is
planned first (schools, funds, allocations, spending, all with business dates), then issued
day by day: the officer registers, proposes and records; the approver approves, rejects and
adjusts. Nothing is dated after the ledger's today.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from scripts.generator import working_days as wd
from scripts.generator.following import registered_schools, reusing_open_funds
from scripts.generator.funding import FundingPlanner
from scripts.generator.geography import PRESETS, preset_named
from scripts.generator.office import APPROVER, OFFICER, GenerationRefused, Office, Progress
from scripts.generator.payees import Payees
from scripts.generator.plan import Command, stream
from scripts.generator.schools import SchoolPlan, draw_schools
from scripts.generator.spending import SpendingPlanner
from scripts.generator.stocks import plan_stocks

if TYPE_CHECKING:
    from domain.ledger import FundLedger

__all__ = ["APPROVER", "EXPENDITURES_PER_SCHOOL_MONTH", "OFFICER", "PRESETS", "GenerationRefused",
           "GenerationSummary", "generate", "plan_year"]

EXPENDITURES_PER_SCHOOL_MONTH = 6.0


@dataclass
class GenerationSummary:
    preset: str
    seed: int
    fiscal_year: int
    scale: float
    schools: int
    funds: int
    allocations: int  # proposals, rejected ones included
    approvals: int
    rejections: int
    adjustments: int
    expenditures: int  # recorded entries, corrections included
    reversals: int
    enrolment_reports: int
    reclassifications: int
    commands: int
    events: int
    first_position: int
    last_position: int
    elapsed_seconds: float
    ground_truth: list[dict[str, Any]] = field(default_factory=list)
    fund_codes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"preset {self.preset}, seed {self.seed}, fiscal year {self.fiscal_year}, scale {self.scale}",
            f"schools {self.schools}, funds {self.funds}, allocations {self.allocations} "
            f"(approved {self.approvals}, rejected {self.rejections}, adjusted {self.adjustments})",
            f"expenditures {self.expenditures} (reversed {self.reversals}), enrolment reports "
            f"{self.enrolment_reports}, reclassifications {self.reclassifications}",
            f"{self.commands} commands, {self.events} events (positions {self.first_position}–"
            f"{self.last_position}) in {self.elapsed_seconds:.1f} s "
            f"({self.events / max(self.elapsed_seconds, 1e-9):,.0f} events/s)",
            *([f"anomalies injected: {len(self.ground_truth)}"] if self.ground_truth else []),
        ]


@dataclass
class YearPlan:
    schools: list[SchoolPlan]
    commands: list[Command]
    funds: int


def plan_year(*, preset: str = "xuzhou", seed: int = 20250101, fiscal_year: int = 2025,
              scale: float = 1.0, today: date | None = None,
              expenditures_per_school_month: float = EXPENDITURES_PER_SCHOOL_MONTH,
              registered: list[SchoolPlan] | None = None) -> YearPlan:
    """The year's commands, without a ledger: pure and deterministic in its arguments.
    `registered`: the schools of a following year, already in the store (following.py)."""
    if not 0 < scale <= 10:
        msg = f"scale must be above 0 and at most 10, got {scale}"
        raise ValueError(msg)
    if expenditures_per_school_month <= 0:
        msg = "expenditures_per_school_month must be positive"
        raise ValueError(msg)
    bureau = preset_named(preset)
    horizon = min(date(fiscal_year, 12, 31), today or date(fiscal_year, 12, 31))
    if horizon < date(fiscal_year, 1, 2):
        msg = f"fiscal year {fiscal_year} has not begun on {today}"
        raise ValueError(msg)
    streams = {name: stream(seed, preset, fiscal_year, name)
               for name in ("schools", "funding", "payees", "spending", "stocks")}
    commands: list[Command] = []
    if registered is None:
        schools = draw_schools(bureau, scale, streams["schools"])
        registered_on = wd.on_or_after(date(fiscal_year, 1, 2))
        commands += [Command(registered_on, "register_school", {
            "code": s.code, "name": s.name, "district": s.district, "level": s.level,
            "locale": s.locale, "poverty_area": s.poverty_area, "students": s.students,
            "effective_date": registered_on}, school=s.code) for s in schools]
        central = frozenset(d.name for d in bureau.districts
                            if d.locale_shares_percent == (100, 0, 0))
        commands += plan_stocks(schools, registered_on, streams["stocks"], central)
    else:
        schools = registered  # registered before, their stocks carried over (following.py)
    funding = FundingPlanner(fiscal_year, schools, streams["funding"], bureau.heating,
                             first_year=registered is None)
    funding.plan()
    spending = SpendingPlanner(fiscal_year, horizon, {s.code: s for s in schools},
                               Payees(bureau, streams["payees"]), streams["spending"],
                               per_school_month=expenditures_per_school_month,
                               heating=bureau.heating)
    commands += funding.commands
    commands += spending.plan(funding.spending)
    commands = [c for c in commands if c.day <= horizon]
    for serial, command in enumerate(commands):
        command.serial = serial
    return YearPlan(schools, commands, len(funding.funds))


def generate(
    ledger: FundLedger, *, preset: str = "xuzhou", seed: int = 20250101, fiscal_year: int = 2025,
    scale: float = 1.0, expenditures_per_school_month: float = EXPENDITURES_PER_SCHOOL_MONTH,
    progress: Progress | None = None, anomalies: bool | Mapping[str, float] | None = None,
    following: bool = False,
) -> GenerationSummary:
    """Writes a realistic fiscal year into `ledger` and says what it wrote.

    `following`: the store holds the previous year(s) of the same preset, seed and scale
    (closed or not): its schools are reused, and the funds the year-end close opened in
    advance are this year's lines (scripts/generator/following.py). Without it the store
    should hold no school or fund of the preset and year.

    `anomalies` (off by default): true, or a mapping of rates by kind, injects the audit
    anomalies of reference/domain.md §(c) after the clean year through scripts.anomalies,
    and returns their ground truth in the summary.
    """
    started = time.monotonic()
    first = ledger.last_position()
    registered = (registered_schools(ledger, preset_named(preset), preset=preset, seed=seed,
                                     scale=scale, fiscal_year=fiscal_year) if following else None)
    plan = plan_year(preset=preset, seed=seed, fiscal_year=fiscal_year, scale=scale,
                     today=ledger.today(), expenditures_per_school_month=expenditures_per_school_month,
                     registered=registered)
    office = Office(ledger, progress)
    office.issue(reusing_open_funds(ledger, plan.commands) if following else plan.commands)
    truth: list[dict[str, Any]] = []
    if anomalies:
        from scripts.anomalies import inject  # noqa: PLC0415  (reads the findings views: optional)

        rates = dict(anomalies) if isinstance(anomalies, Mapping) else None
        truth = inject(ledger, fiscal_year, seed=seed, rates=rates)
    last = ledger.last_position()
    counts = office.counts
    return GenerationSummary(
        preset=preset, seed=seed, fiscal_year=fiscal_year, scale=scale,
        schools=counts.get("register_school", 0), funds=counts.get("open_fund", 0),
        allocations=counts.get("propose_allocation", 0) + office.tranche_allocations.get("proposed", 0),
        approvals=counts.get("approve_allocation", 0) + office.tranche_allocations.get("approved", 0),
        rejections=counts.get("reject_allocation", 0), adjustments=counts.get("adjust_allocation", 0),
        expenditures=counts.get("record_expenditure", 0) + counts.get("record_correction", 0),
        reversals=counts.get("reverse_expenditure", 0),
        enrolment_reports=counts.get("report_enrolment", 0),
        reclassifications=counts.get("reclassify_school", 0),
        commands=sum(counts.values()), events=last - first, first_position=first + 1,
        last_position=last, elapsed_seconds=time.monotonic() - started, ground_truth=truth,
        fund_codes=sorted({c.args["code"] for c in plan.commands if c.kind == "open_fund"}))
