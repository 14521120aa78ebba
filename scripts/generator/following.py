"""A following fiscal year written onto a store that already holds the previous one (same
preset, seed and scale): the bureau's schools are those it registered then, and the funds the
year-end close opened in advance (提前下达, the carry-over targets) are this year's lines.

Schools keep what the ledger says of them now (locale after reclassifications, enrolment
after the autumn report); what the ledger does not hold (teachers, remoteness, teaching
points) is drawn again from the registration year's own stream, which gives the same schools.
Their stocks (posts, assets, indicator reports) carry over and are not set up again.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from domain.dispositions import is_basic, is_money
from domain.fund import Fund
from domain.school import School
from scripts.generator.geography import Preset
from scripts.generator.office import GenerationRefused
from scripts.generator.plan import Command, stream
from scripts.generator.schools import SchoolPlan, draw_schools

if TYPE_CHECKING:
    from domain.ledger import FundLedger

ADVANCE_COUNTED_REASON = "年初预算批复到位（提前下达部分已到账，补足差额）"


def registered_schools(ledger: FundLedger, bureau: Preset, *, preset: str, seed: int,
                       scale: float, fiscal_year: int) -> list[SchoolPlan]:
    """The schools the store holds for this preset, seed and scale, as of now; refuses a store
    whose schools are not those (another seed or scale) or that holds none yet."""
    first = _registration_year(ledger, bureau)
    if first is None:
        msg = (f"the store holds no school of preset {preset}: generate its first year "
               f"without following")
        raise GenerationRefused(msg)
    if first >= fiscal_year:
        msg = f"the schools were registered in {first}: a following year must come after it"
        raise GenerationRefused(msg)
    schools = []
    for drawn in draw_schools(bureau, scale, stream(seed, preset, first, "schools")):
        school = ledger.find(School, School.id_for(drawn.code))
        if school is None or (school.name, school.level) != (drawn.name, drawn.level):
            msg = (f"school {drawn.code} of preset {preset}, seed {seed}, scale {scale} is "
                   f"{'not in the store' if school is None else 'another school in the store'}: "
                   f"a following year needs the first year's preset, seed and scale")
            raise GenerationRefused(msg)
        if not school.is_closed:
            schools.append(dataclasses.replace(drawn, locale=school.locale,
                                               students=school.students))
    return schools


def _registration_year(ledger: FundLedger, bureau: Preset) -> int | None:
    """Every district's first school is numbered 0001, whatever the scale or seed."""
    for district in bureau.districts:
        school = ledger.find(School, School.id_for(f"{bureau.code_prefix}-{district.abbreviation}-0001"))
        if school is not None:
            return school.locale_history[0][0].year
    return None


def reusing_open_funds(ledger: FundLedger, commands: list[Command]) -> list[Command]:
    """The plan's commands with each fund the close already opened reused: instead of opening
    it again, its appropriation is raised to what the plan opens it with, the advance already
    received counting towards it. Any other fund of the year already open means the year was
    generated before: refused before anything is written."""
    reused = []
    for command in commands:
        if command.kind != "open_fund":
            reused.append(command)
            continue
        args = command.args
        fund = ledger.find(Fund, Fund.id_for(args["code"]))
        if fund is None:
            reused.append(command)
            continue
        same = ((fund.fiscal_year, fund.unit, fund.category, fund.earmark, sorted(fund.levels))
                == (args["fiscal_year"], args["unit"], args["category"], args["earmark"],
                    sorted(args["levels"])))
        if not (same and is_money(fund.unit) and is_basic(fund.category)) or fund.closed:
            msg = (f"fund {fund.code} is already open and is not a line the year-end close "
                   f"opened in advance: fiscal year {args['fiscal_year']} was generated before")
            raise GenerationRefused(msg)
        delta = args["amount"] - fund.available
        if delta > 0:
            reused.append(dataclasses.replace(command, kind="adjust_fund", args={
                "code": fund.code, "delta": delta, "reason": ADVANCE_COUNTED_REASON,
                "effective_date": args["effective_date"]}))
    return reused
