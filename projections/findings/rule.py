"""What a finding is, what a rule is, and the scope (fiscal year, as-of date) they run in."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.units import money_text

if TYPE_CHECKING:
    from projections.database import ViewDatabase

# "No position bound" as an integer, so the same SQL serves both backends.
POSITION_UNBOUNDED = 2**62


@dataclass(frozen=True)
class Scope:
    """A fiscal year looked at as of a business date (and, optionally, a log position).

    Only events whose effective date is on or before `as_of` (and whose position is at most
    `position_max`) count, so a finding can be asked for any past day.
    """

    fiscal_year: int
    as_of: date
    position_max: int = POSITION_UNBOUNDED

    @classmethod
    def year_end(cls, fiscal_year: int, as_of: date | None = None, position_max: int | None = None) -> Scope:
        return cls(
            fiscal_year,
            as_of or date(fiscal_year, 12, 31),
            position_max if position_max is not None else POSITION_UNBOUNDED,
        )

    @property
    def day(self) -> str:
        return self.as_of.isoformat()


@dataclass(frozen=True)
class Finding:
    """One answer to an auditor's question: what, about whom, how far over, and on which events.

    `key` identifies the subject exactly (e.g. an allocation id, or a school and year), so a
    finding can be matched against an injected anomaly; `evidence` lists the positions of the
    events behind it, which the journal shows in full.
    """

    rule: str
    fiscal_year: int
    key: Mapping[str, Any]
    measure: float | int
    threshold: float | int
    message: str
    evidence: tuple[int, ...]
    amount_minor: int | None = None
    unit: str | None = None
    # The same sentence in Chinese (the dashboard's default language), and what `measure` and
    # `threshold` count: "days", "share" (a fraction), "ratio", "count", "flag" or a unit
    # code such as "CNY" (then in minor units), so a page can write them for a person.
    message_zh: str = ""
    measure_unit: str = "count"
    threshold_unit: str | None = None  # when the threshold counts something else than the measure

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "fiscal_year": self.fiscal_year,
            "key": dict(self.key),
            "measure": self.measure,
            "threshold": self.threshold,
            "message": self.message,
            "evidence": list(self.evidence),
            "amount_minor": self.amount_minor,
            "unit": self.unit,
            "message_zh": self.message_zh,
            "measure_unit": self.measure_unit,
            "threshold_unit": self.threshold_unit or self.measure_unit,
        }


def allocation_late(rule: str, scope: Scope, row: Mapping[str, Any], *, days: int, days_max: int,
                    says: str, says_zh: str, evidence: Iterable[int | None],
                    amount_minor: int) -> Finding:
    """A finding that an allocation (`row` of the facts' allocations) waited too many days: its
    sentence opens with which fund's allocation to which school, in both languages."""
    return Finding(
        rule=rule, fiscal_year=scope.fiscal_year, key={"allocation_id": row["allocation_id"]},
        measure=days, threshold=days_max, measure_unit="days",
        message=f"allocation of {row['fund_code']} to {row['school_code']} {says}",
        message_zh=f"{row['fund_code']} 下达给 {row['school_code']} 的拨款{says_zh}",
        evidence=tuple(sorted({p for p in evidence if p is not None})),
        amount_minor=amount_minor, unit=row["unit"])


def school_shortfall(rule: str, scope: Scope, school: str, *, short_fen: int, measure: float | int,
                     threshold: float | int, measure_unit: str, message: str, message_zh: str,
                     evidence: Iterable[int]) -> Finding:
    """A finding that a school's public operating money is `short_fen` fen (CNY) below what
    the rule asks of it, on the events behind both figures (each once, in log order)."""
    return Finding(
        rule=rule, fiscal_year=scope.fiscal_year, key={"school": school},
        measure=measure, threshold=threshold, measure_unit=measure_unit,
        message=message, message_zh=message_zh, evidence=tuple(sorted(set(evidence))),
        amount_minor=short_fen, unit="CNY")


def measure_text(value: float | int, measure_unit: str, language: str = "en") -> str:
    """A finding's measure or threshold as a person reads it: yuan for money, 天/days,
    a percentage for a share."""
    zh = language.startswith("zh")
    if measure_unit == "days":
        return f"{int(value)} 天" if zh else f"{int(value)} days"
    if measure_unit == "share":
        return f"{value * 100:.1f}%"
    if measure_unit == "ratio":
        return f"{value:.2f}"
    if measure_unit in ("count", "flag"):
        return str(value)
    return money_text(int(value), measure_unit, language)


RuleQuery = Callable[["ViewDatabase", Scope, Mapping[str, Any]], list[Finding]]


@dataclass(frozen=True)
class Rule:
    """A named audit question with its legal or policy basis and its parameters.

    `exactly_defined` says whether the anomaly it looks for has a crisp definition (so an
    injected case must be found and nothing else should be), as opposed to an indicator
    whose threshold is a judgement.
    """

    name: str
    title: str
    basis: str
    params: Mapping[str, Any]
    query: RuleQuery
    exactly_defined: bool = True
    tags: tuple[str, ...] = field(default=())

    def run(
        self, session: ViewDatabase, scope: Scope, overrides: Mapping[str, Any] | None = None
    ) -> list[Finding]:
        params = dict(self.params)
        for name, value in (overrides or {}).items():
            if name not in params:
                msg = f"rule {self.name} has no parameter {name}"
                raise ValueError(msg)
            params[name] = value
        return self.query(session, scope, params)


@cache
def definitions() -> dict[str, dict[str, Any]]:
    """Every rule's title, basis, parameters' defaults and exactness, from rules.toml."""
    return tomllib.loads(Path(__file__).with_name("rules.toml").read_text(encoding="utf-8"))


def defined_rule(name: str, query: RuleQuery) -> Rule:
    """The rule `name` as rules.toml defines it, answered by `query` (a list parameter is a
    tuple, as the queries take it)."""
    d = definitions()[name]
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in d["params"].items()}
    return Rule(name=name, title=d["title"], basis=d["basis"], params=params, query=query,
                exactly_defined=d.get("exactly_defined", True))
