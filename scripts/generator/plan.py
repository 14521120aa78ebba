"""The year as a plan: ledger commands with their business dates, in the order the finance
office would take them, and the money each allocation is to spend.

A command names the `FundLedger` method it calls and its keyword arguments. Ids the ledger
creates (allocations, expenditures) are not known in advance: a later command refers to
them by `Ref`, resolved when the plan is issued.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any

# Order of commands within one business day: what must exist before what uses it.
PHASE = {
    "register_school": 0, "open_fund": 1, "adjust_fund": 2, "reclassify_school": 3,
    "report_enrolment": 4, "propose_allocation": 5, "reject_allocation": 6,
    "approve_allocation": 7, "adjust_allocation": 8, "record_expenditure": 9,
    "reverse_expenditure": 10, "record_correction": 11, "cancel_allocation": 12,
    # Formula funding (domain/formula_funding.py): standards, then a snapshot of the day's
    # reported enrolment, then the tranche proposed and approved.
    "set_standard": 1, "decide_standard": 2, "snapshot_from_history": 4.5,
    "propose_tranche": 5, "approve_tranche": 7,
    # Resource stocks (scripts/generator/stocks.py): the county total before its schools' posts.
    "approve_post_total": 13, "distribute_posts": 14, "record_hires": 15, "receive_assets": 16,
    "report_indicators": 17,
}
APPROVER_COMMANDS = frozenset({"decide_standard", "approve_tranche",
                               "adjust_fund", "approve_allocation", "reject_allocation",
                               "adjust_allocation", "close_fund"})


@dataclass(frozen=True)
class Ref:
    """An id the ledger will create: the subject of the command saved under `key`."""

    key: str


@dataclass
class Command:
    day: date
    kind: str  # the FundLedger method (record_correction is record_expenditure after a reversal)
    args: dict[str, Any]
    key: str | None = None  # remember the outcome's subject id under this name
    school: str = ""  # orders a day's commands school by school, as an officer works
    serial: int = 0  # plan order, the last tie-breaker

    @property
    def method(self) -> str:
        return "record_expenditure" if self.kind == "record_correction" else self.kind

    def sort_key(self) -> tuple[date, float, str, int]:
        return (self.day, PHASE[self.kind], self.school, self.serial)


@dataclass
class SpendItem:
    """What one allocation is to spend, and from when.

    `flexible` money follows the bureau's monthly seasonality (fitted across all allocations);
    `scheduled` payments have their own dates (aid after semester start, monthly subsidies,
    posts filled at the new school year).
    """

    allocation: str  # Ref key
    school: str
    family: str  # e.g. "operating", "project", "aid": chooses classes, payees, counts
    unit: str
    start: date  # the first day money may be spent
    end_month: int
    flexible_minor: int = 0
    training_minor: int = 0  # 5%+ of public operating funds goes to teacher training
    classes: tuple[str, ...] = ()
    scheduled: list[tuple[date, int, str, str]] = field(default_factory=list)  # day, amount, class, payee
    payments_max: int = 0  # projects: a few progress payments instead of many vouchers


def stream(seed: int, preset: str, fiscal_year: int, concern: str) -> random.Random:
    """One random stream per concern of a year, so that e.g. more vouchers a month leave the
    schools unchanged, and a following year can draw its first year's schools again."""
    return random.Random(f"{seed}:{preset}:{fiscal_year}:{concern}")
