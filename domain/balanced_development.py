"""The balanced-development evaluation of a county's compulsory schools, as the national
standard defines it (县域义务教育优质均衡发展督导评估办法, 教督〔2017〕6号; domain.md §3.1).

Seven resource stocks are taken per pupil (or per 100 pupils) at each school. A county-level
unit meets the between-school rule for a stage when, for every indicator, the pupil-weighted
coefficient of variation (差异系数) across its schools is at most 0.50 (primary) or 0.45
(junior):

    X̄ = Σ PᵢXᵢ / P,   S = √( Σ (Pᵢ/P)(Xᵢ − X̄)² ),   CV = S / X̄

A school meets the per-school rule when at least 6 of the 7 reach the national value and the
rest reach at least 85 % of it. The evaluation covers compulsory schools only — not special-
education schools, not teaching points under 50 pupils — and splits a nine-year school
(九年一贯制) into its primary and junior parts, and a complete secondary school (完全中学)
into its junior part, by enrolment.

The indicators' names, units and national values are data (balanced_development.toml).

Everything is computed from integers with exact fractions; whether a CV is within its
threshold is decided exactly (CV ≤ t ⇔ S² ≤ t²·X̄²), and the CV itself is a report figure
(a Decimal square root), never a float.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from enum import StrEnum
from fractions import Fraction
from pathlib import Path

from domain.classification import Level

# A stock: whole units, or a split school's fractional share of one.
Amount = int | Fraction

PUPILS_MIN = 50  # 教学点 under 50 pupils are left out, as the 办法 does
SHORTFALL_FLOOR = Fraction(85, 100)  # an indicator short of the national value must reach 85 %
INDICATORS_MET_MIN = 6  # of 7
CV_DIGITS = 4  # a CV is reported to four decimal places


class Stage(StrEnum):
    PRIMARY = "primary"  # 小学
    JUNIOR = "junior"  # 初中


CV_THRESHOLD: dict[Stage, Fraction] = {Stage.PRIMARY: Fraction(50, 100),
                                       Stage.JUNIOR: Fraction(45, 100)}


class Indicator(StrEnum):
    QUALIFIED_TEACHERS = "qualified_teachers"
    KEY_TEACHERS = "key_teachers"
    PE_ARTS_TEACHERS = "pe_arts_teachers"
    TEACHING_AREA = "teaching_area"
    SPORTS_AREA = "sports_area"
    EQUIPMENT_VALUE = "equipment_value"
    MULTIMEDIA_CLASSROOMS = "multimedia_classrooms"


@dataclass(frozen=True)
class IndicatorDefinition:
    """One of the seven: what a school's stock is counted in, and how it becomes per pupil.

    `scale` turns a stock per pupil into the indicator's own unit: 100 for "per 100 pupils",
    1/100 for equipment held in fen and reported in yuan per pupil."""

    indicator: Indicator
    name_zh: str
    name_en: str
    stock_unit: str  # what the school's amount counts: teachers, m2, fen, classrooms
    value_unit_zh: str
    value_unit_en: str
    scale: Fraction
    national: Mapping[Stage, Fraction]


def _definitions(path: Path) -> dict[Indicator, IndicatorDefinition]:
    """The seven from their data file, each with its national value per stage (exact)."""
    found = tomllib.loads(path.read_text(encoding="utf-8"))
    return {Indicator(key): IndicatorDefinition(
        Indicator(key), d["name_zh"], d["name_en"], d["stock_unit"], d["value_unit_zh"],
        d["value_unit_en"], Fraction(d["scale"]),
        {Stage(stage): Fraction(value) for stage, value in d["national"].items()})
        for key, d in found.items()}


DEFINITIONS = _definitions(Path(__file__).with_name("balanced_development.toml"))
assert set(DEFINITIONS) == set(Indicator), "balanced_development.toml names each indicator once"


# ------------------------------------------------------------------ the CV


def weighted_mean(members: Sequence[tuple[int, Amount]]) -> Fraction | None:
    """X̄ = Σ PᵢXᵢ / P with Xᵢ = amountᵢ / Pᵢ, i.e. total amount over total pupils."""
    pupils = sum(p for p, _ in members)
    if pupils <= 0:
        return None
    return Fraction(sum(a for _, a in members), pupils)


def cv_squared(members: Sequence[tuple[int, Amount]]) -> Fraction | None:
    """(S / X̄)² exactly, over (pupils, amount) pairs; None when there is no mean to divide by."""
    members = [(p, a) for p, a in members if p > 0]
    pupils = sum(p for p, _ in members)
    total = sum(a for _, a in members)
    if pupils <= 0 or total == 0:
        return None
    # S² = Σ (Pᵢ/P)(Xᵢ − X̄)² = (Σ aᵢ²/Pᵢ) / P − X̄², with X̄ = A / P, so (S / X̄)² is
    # P·Σ aᵢ²/Pᵢ / A² − 1: the same exact fraction in a third of the arithmetic (the
    # evaluation asks it for each indicator, stage and county, the findings at every ask).
    return pupils * sum((Fraction(a * a, p) for p, a in members), Fraction(0)) / (total * total) - 1


def coefficient_of_variation(members: Sequence[tuple[int, Amount]]) -> Decimal | None:
    """The 差异系数 as a report figure: CV = S / X̄, to `CV_DIGITS` places."""
    return cv_of_squared(cv_squared(members))


def cv_of_squared(squared: Fraction | None) -> Decimal | None:
    """CV to `CV_DIGITS` places from its exact square (None stays None)."""
    if squared is None:
        return None
    with localcontext() as context:
        context.prec = 34
        root = (Decimal(squared.numerator) / Decimal(squared.denominator)).sqrt()
        return root.quantize(Decimal(1).scaleb(-CV_DIGITS))


def within_threshold(members: Sequence[tuple[int, Amount]], threshold: Fraction) -> bool | None:
    """CV ≤ threshold, decided exactly (no square root, no rounding)."""
    return squared_within(cv_squared(members), threshold)


def squared_within(squared: Fraction | None, threshold: Fraction) -> bool | None:
    """CV ≤ threshold from CV's exact square (None when there is no CV)."""
    return None if squared is None else squared <= threshold * threshold


# ------------------------------------------------------------- the schools


@dataclass(frozen=True)
class SchoolOnDay:
    """A school open on the evaluation day, with the locale and enrolment in force then."""

    code: str
    name: str
    district: str
    level: str
    locale: str
    pupils: int


@dataclass(frozen=True)
class SchoolStocks(SchoolOnDay):
    """What a school holds on the evaluation day: each indicator's stock in its stock unit
    (None when nobody has recorded or reported it), its enrolment, and for a nine-year or
    complete school how many of its pupils are in the junior stage."""

    stocks: Mapping[Indicator, int | None]
    junior_pupils: int | None = None


@dataclass(frozen=True)
class SchoolPart:
    """A school, or the primary or junior part of one, as the evaluation counts it. The
    per-pupil values are the whole school's (its stocks are split in proportion to the
    enrolment of each part, as the 办法's calculation guide does); the weight is the part's."""

    school: SchoolStocks
    stage: Stage
    pupils: int
    estimated_split: bool = False

    def value(self, indicator: Indicator) -> Fraction | None:
        amount = self.school.stocks.get(indicator)
        if amount is None or self.school.pupils <= 0:
            return None
        return Fraction(amount, self.school.pupils) * DEFINITIONS[indicator].scale

    def weighted_amount(self, indicator: Indicator) -> tuple[int, Fraction] | None:
        """(pupils of the part, the part's share of the stock) for the CV."""
        amount = self.school.stocks.get(indicator)
        if amount is None or self.school.pupils <= 0:
            return None
        return self.pupils, Fraction(amount * self.pupils, self.school.pupils)


@dataclass(frozen=True)
class Excluded:
    code: str
    name: str
    reason: str  # special_education | teaching_point | not_compulsory


# A nine-year school has 6 primary and 3 junior grades; a complete secondary school 3 junior
# and 3 senior. When a school has not reported its junior enrolment, its split is by grades
# and marked as estimated.
_JUNIOR_GRADE_SHARE = {Level.NINE_YEAR.value: Fraction(3, 9), Level.COMPLETE.value: Fraction(3, 6)}


def parts_of(school: SchoolStocks) -> list[SchoolPart] | Excluded:
    """The parts a school counts as, or why it is left out."""
    if school.level == Level.SPECIAL:
        return Excluded(school.code, school.name, "special_education")
    if school.level not in (Level.PRIMARY, Level.JUNIOR, Level.NINE_YEAR, Level.COMPLETE):
        return Excluded(school.code, school.name, "not_compulsory")
    if school.pupils < PUPILS_MIN:
        return Excluded(school.code, school.name, "teaching_point")
    if school.level == Level.PRIMARY:
        return [SchoolPart(school, Stage.PRIMARY, school.pupils)]
    if school.level == Level.JUNIOR:
        return [SchoolPart(school, Stage.JUNIOR, school.pupils)]
    estimated = school.junior_pupils is None
    junior = (school.junior_pupils if school.junior_pupils is not None
              else int(school.pupils * _JUNIOR_GRADE_SHARE[school.level]))
    junior = min(max(junior, 0), school.pupils)
    parts = []
    if school.level == Level.NINE_YEAR and school.pupils - junior > 0:
        parts.append(SchoolPart(school, Stage.PRIMARY, school.pupils - junior, estimated))
    if junior > 0:
        parts.append(SchoolPart(school, Stage.JUNIOR, junior, estimated))
    return parts


# ------------------------------------------------------------ the results


@dataclass(frozen=True)
class IndicatorResult:
    """One indicator at one school part: its value against the national value."""

    indicator: Indicator
    value: Fraction | None
    national: Fraction

    @property
    def share(self) -> Fraction | None:
        return None if self.value is None else self.value / self.national

    @property
    def met(self) -> bool | None:
        return None if self.value is None else self.value >= self.national

    @property
    def above_floor(self) -> bool | None:
        return None if self.value is None else self.value >= self.national * SHORTFALL_FLOOR


@dataclass(frozen=True)
class SchoolResult:
    part: SchoolPart
    indicators: list[IndicatorResult]

    @property
    def missing(self) -> list[Indicator]:
        return [r.indicator for r in self.indicators if r.value is None]

    @property
    def short(self) -> list[IndicatorResult]:
        """Indicators below the national value."""
        return [r for r in self.indicators if r.met is False]

    @property
    def passes(self) -> bool | None:
        """At least 6 of 7 at the national value, the rest at ≥ 85 % of it; unknown while an
        indicator is not recorded."""
        if self.missing:
            return None
        met = sum(1 for r in self.indicators if r.met)
        return met >= INDICATORS_MET_MIN and all(r.above_floor for r in self.indicators)

    @property
    def reasons(self) -> list[str]:
        """Why the school fails, one line per cause (empty when it passes)."""
        if self.missing:
            return [f"not recorded: {', '.join(self.missing)}"]
        out = []
        short = self.short
        if len(short) > len(self.indicators) - INDICATORS_MET_MIN:
            out.append(f"{len(short)} of {len(self.indicators)} indicators below the national "
                       f"value (at most {len(self.indicators) - INDICATORS_MET_MIN} allowed)")
        out.extend(f"{r.indicator} below 85% of the national value"
                   for r in short if not r.above_floor)
        return out


@dataclass(frozen=True)
class IndicatorSpread:
    """One indicator across a county's schools of one stage."""

    indicator: Indicator
    schools: int
    pupils: int
    mean: Fraction | None
    coefficient: Decimal | None
    threshold: Fraction
    within_threshold: bool | None


@dataclass(frozen=True)
class StageEvaluation:
    """A county-level unit's evaluation for one stage."""

    district: str
    stage: Stage
    spreads: list[IndicatorSpread]
    schools: list[SchoolResult]

    @property
    def spreads_within(self) -> bool | None:
        return all_of(s.within_threshold for s in self.spreads)

    @property
    def schools_pass(self) -> bool | None:
        return all_of(s.passes for s in self.schools)

    @property
    def passes(self) -> bool | None:
        """Both rules: every CV within its threshold and every school passing."""
        both = all_of((self.spreads_within, self.schools_pass))
        return None if both and not self.schools else both


def all_of(verdicts: Iterable[bool | None]) -> bool | None:
    """Whether every verdict holds, where None is "not known yet": one failure fails it
    whatever is unknown; otherwise any unknown leaves it unknown."""
    known = list(verdicts)
    if any(v is False for v in known):
        return False
    return None if any(v is None for v in known) else True


@dataclass(frozen=True)
class CountyEvaluation:
    district: str
    stages: list[StageEvaluation]
    excluded: list[Excluded] = field(default_factory=list)


def evaluate_school(part: SchoolPart) -> SchoolResult:
    return SchoolResult(part, [IndicatorResult(i, part.value(i), DEFINITIONS[i].national[part.stage])
                               for i in Indicator])


def evaluate_stage(district: str, stage: Stage, parts: Sequence[SchoolPart]) -> StageEvaluation:
    spreads = []
    for indicator in Indicator:
        weighted = [w for w in (p.weighted_amount(indicator) for p in parts) if w is not None]
        pupils = sum(p for p, _ in weighted)
        mean = (sum((a for _, a in weighted), Fraction(0)) / pupils * DEFINITIONS[indicator].scale
                if pupils else None)
        squared = cv_squared(weighted)  # once: the figure and the verdict both rest on it
        spreads.append(IndicatorSpread(indicator, len(weighted), pupils, mean,
                                       cv_of_squared(squared), CV_THRESHOLD[stage],
                                       squared_within(squared, CV_THRESHOLD[stage])))
    return StageEvaluation(district, stage, spreads, [evaluate_school(p) for p in parts])


def evaluate_county(district: str, schools: Iterable[SchoolStocks]) -> CountyEvaluation:
    """Both stages of one county-level unit, over the schools open on the evaluation day."""
    by_stage: dict[Stage, list[SchoolPart]] = {Stage.PRIMARY: [], Stage.JUNIOR: []}
    excluded = []
    for school in sorted(schools, key=lambda s: s.code):
        parts = parts_of(school)
        if isinstance(parts, Excluded):
            if parts.reason != "not_compulsory":  # outside the evaluation's scope, not left out of it
                excluded.append(parts)
            continue
        for part in parts:
            by_stage[part.stage].append(part)
    stages = [evaluate_stage(district, stage, parts) for stage, parts in by_stage.items() if parts]
    return CountyEvaluation(district, stages, excluded)
