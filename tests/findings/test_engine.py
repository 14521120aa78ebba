"""The catalogue and the engine: a clean bureau has no findings; every rule is documented."""

from __future__ import annotations

import pytest

from projections.findings.registry import RULES, UnknownRule, rule_named
from tests.findings.conftest import Bureau


def test_a_clean_bureau_has_no_findings(bureau: Bureau) -> None:
    assert bureau.all_findings() == []


def test_every_rule_names_its_basis_and_units_in_its_parameters() -> None:
    assert len({rule.name for rule in RULES}) == len(RULES)
    for rule in RULES:
        assert rule.basis and rule.title and rule.query.__doc__, rule.name
        for name in rule.params:
            assert any(
                part in name
                for part in (
                    "days",
                    "fen",
                    "basis_points",
                    "students",
                    "schools",
                    "max",
                    "min",
                    "role",
                    "unit",
                    "categories",
                    "forbidden",
                )
            ), name


def test_an_unknown_rule_or_parameter_is_refused(bureau: Bureau) -> None:
    with pytest.raises(UnknownRule):
        rule_named("no_such_rule")
    with pytest.raises(ValueError, match="no parameter"):
        bureau.findings("pass_through_late", deadline_weeks=3)
