"""Year-end rules of the books: what becomes of each allocation's unspent remainder.

At the close of a fiscal year each allocation's remainder is either

- **carried over (结转)** into an allocation of the next fiscal year for the same school,
  in a fund of the same category, earmark, expenditure classes, unit and source level: 结转
  money "must be used next year for its original purpose" (财预〔2010〕7号, art. 2); or
- **recovered as surplus (结余)** to the treasury of the level that paid it.

Basic expenditure (personnel, public operating) produces only 结转, never 结余 (财预〔2010〕7号);
a project's remainder is 结余 unless the project continues, which the approver states with a
reason. Carry-over money still unspent at the `carry_over_years_max`-th year-end since it was
first carried is recovered as surplus at that close (local two-year rules; reference/domain.md
§1.6). Funds in resource units (teacher posts, devices) are stocks and are not closed here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from domain.classification import Category, ExpenditureClass
from domain.errors import (
    BasicExpenditureSurplus,
    CarryOverTargetInvalid,
    CarryOverTargetMissing,
    InvalidInput,
    OperatingFundsConstruction,
    ProjectContinuationUnexplained,
    PurposeChanged,
)
from domain.units import CNY

if TYPE_CHECKING:
    from domain.fund import Fund

CARRY_OVER_YEARS_MAX_DEFAULT = 2

# 基本支出: personnel and routine operating costs; everything else is 项目支出.
BASIC_CATEGORIES = frozenset({Category.PERSONNEL.value, Category.PUBLIC_OPERATING.value})

# 公用经费 may not pay staff, capital construction or debt (财教〔2006〕5号 art. 4).
OPERATING_FORBIDDEN_CLASSES = frozenset({ExpenditureClass.CONSTRUCTION.value,
                                         ExpenditureClass.SALARIES.value,
                                         ExpenditureClass.DEBT_REPAYMENT.value})


class Disposition(StrEnum):
    CARRY_OVER = "carry_over"  # 结转
    SURPLUS = "surplus"  # 结余


def disposition_named(value: str, what: str = "disposition") -> Disposition:
    """`lapse` is the name the first release gave to what is now recovered surplus."""
    if value == "lapse":
        return Disposition.SURPLUS
    try:
        return Disposition(value)
    except ValueError:
        msg = f"{what} {value!r} is not one of: carry_over, surplus"
        raise InvalidInput(msg) from None


def is_basic(category: str) -> bool:
    return category in BASIC_CATEGORIES


def is_money(unit: str) -> bool:
    return unit == CNY.code


def default_disposition(category: str) -> Disposition:
    return Disposition.CARRY_OVER if is_basic(category) else Disposition.SURPLUS


@dataclass(frozen=True)
class Choice:
    """What the approver asked for one allocation (or the fund as a whole)."""

    disposition: Disposition | None = None  # None: the category's default
    reason: str = ""  # required to carry over a project's remainder
    carry_to: str | None = None  # the next year's fund; found by purpose when None


def decide(category: str, choice: Choice, *, carried_since: int | None, fiscal_year: int,
           carry_over_years_max: int) -> tuple[Disposition, str]:
    """The disposition of one allocation's remainder and the rule that chose it."""
    if carried_since is not None and fiscal_year - carried_since >= carry_over_years_max:
        return Disposition.SURPLUS, f"carried over since {carried_since}: recovered after " \
                                    f"{carry_over_years_max} year-ends"
    disposition = choice.disposition or default_disposition(category)
    if disposition is Disposition.SURPLUS and is_basic(category):
        msg = (f"{category} is basic expenditure: its remainder is carried over (结转), "
               "never recovered as surplus (结余)")
        raise BasicExpenditureSurplus(msg)
    if disposition is Disposition.CARRY_OVER and not is_basic(category) and not choice.reason:
        msg = (f"a {category} project's remainder is surplus (结余) unless the project "
               "continues: give the reason it continues to carry it over")
        raise ProjectContinuationUnexplained(msg)
    rule = "chosen" if choice.disposition else "category default"
    return disposition, rule


def purpose_of(fund: Fund) -> tuple[str, str, tuple[str, ...], str, str]:
    return (fund.category, fund.earmark, tuple(sorted(fund.expenditure_classes)), fund.unit,
            fund.source)


def describe_purpose(fund: Fund) -> str:
    return (f"{fund.category} / earmark {fund.earmark} / classes "
            f"{', '.join(sorted(fund.expenditure_classes))} / {fund.source} / {fund.unit}")


def check_same_purpose(source: Fund, target: Fund) -> None:
    """The target of a carry-over is an open fund of the next year with the same purpose."""
    if target.fiscal_year != source.fiscal_year + 1 or target.closed:
        msg = (f"fund {target.code} ({target.fiscal_year}) cannot receive {source.code}'s "
               f"carry-over; it must be an open {source.fiscal_year + 1} fund")
        raise CarryOverTargetInvalid(msg)
    if purpose_of(target)[:3] != purpose_of(source)[:3]:
        msg = (f"carrying {source.code} ({describe_purpose(source)}) into {target.code} "
               f"({describe_purpose(target)}) would change the money's purpose")
        raise PurposeChanged(msg)
    if target.unit != source.unit or target.source != source.source:
        msg = (f"fund {target.code} is {target.source} money in {target.unit}; {source.code}'s "
               f"carry-over stays {source.source} money in {source.unit}")
        raise CarryOverTargetInvalid(msg)


def find_target(source: Fund, candidates: Iterable[Fund]) -> Fund:
    """The one open next-year fund of the same purpose; a clear refusal naming what is missing."""
    # Among funds of the same purpose, the line for the same school levels (a county has one
    # operating line per stage), then any that admits them all, then the rest, by code.
    def fit(fund: Fund) -> tuple[int, str]:
        if sorted(fund.levels) == sorted(source.levels):
            return 0, fund.code
        if not fund.levels or (source.levels and set(source.levels) <= set(fund.levels)):
            return 1, fund.code
        return 2, fund.code

    matching = sorted((f for f in candidates if f.fiscal_year == source.fiscal_year + 1
                       and not f.closed and purpose_of(f) == purpose_of(source)), key=fit)
    if not matching:
        msg = (f"no open {source.fiscal_year + 1} fund of {source.code}'s purpose "
               f"({describe_purpose(source)}) to carry its remainder into: open one, or name "
               "carry_to")
        raise CarryOverTargetMissing(msg)
    return matching[0]


def check_operating_classes(category: str, classes: Iterable[str]) -> None:
    if category != Category.PUBLIC_OPERATING.value:
        return
    forbidden = sorted(OPERATING_FORBIDDEN_CLASSES.intersection(classes))
    if forbidden:
        msg = f"public operating funds (公用经费) may not pay for {', '.join(forbidden)}"
        raise OperatingFundsConstruction(msg)
