"""The catalogue of findings rules, and the engine that runs them for a scope."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from projections.findings import (
    backdating,
    benchmark,
    december_surge,
    idle_allocations,
    pass_through,
    purpose,
    rural_equity,
    segregation_of_duties,
    teacher_training,
    vouchers,
)
from projections.findings.as_of import SharedReads
from projections.findings.rule import definitions

if TYPE_CHECKING:
    from collections.abc import Mapping

    from projections.database import ViewDatabase
    from projections.findings.rule import Finding, Rule, Scope

RULES: tuple[Rule, ...] = (
    *pass_through.RULES,
    *idle_allocations.RULES,
    *benchmark.RULES,
    *teacher_training.RULES,
    *december_surge.RULES,
    *segregation_of_duties.RULES,
    *vouchers.RULES,
    *purpose.RULES,
    *rural_equity.RULES,
    *backdating.RULES,
)
RULES_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}
assert len(RULES_BY_NAME) == len(RULES) and set(RULES_BY_NAME) == set(definitions()), (
    "rules.toml defines each rule of the catalogue, once")


class UnknownRule(ValueError):
    """A rule name that is not in the catalogue."""


def rule_named(name: str) -> Rule:
    try:
        return RULES_BY_NAME[name]
    except KeyError:
        msg = f"unknown rule {name!r}; known: {', '.join(RULES_BY_NAME)}"
        raise UnknownRule(msg) from None


def run_findings(
    session: ViewDatabase,
    scope: Scope,
    rule: str | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Finding]:
    """Every finding of the scope (or of one rule), in catalogue order."""
    rules = [rule_named(rule)] if rule else list(RULES)
    shared = SharedReads(session)
    findings: list[Finding] = []
    for each in rules:
        findings.extend(each.run(shared, scope, (overrides or {}).get(each.name)))  # type: ignore[arg-type]
    return findings
