"""The findings rules' words and thresholds are data (projections/findings/rules.toml): every
rule of the catalogue is defined there once, with a title, a basis and the parameters its
query reads, and a run may override only those."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from projections.findings.registry import RULES
from projections.findings.rule import Rule, Scope, definitions


def test_the_data_defines_exactly_the_catalogues_rules() -> None:
    assert sorted(definitions()) == sorted(rule.name for rule in RULES)


@given(st.sampled_from(RULES))
def test_a_rule_is_what_its_data_says(rule: Rule) -> None:
    data = definitions()[rule.name]
    assert rule.title == data["title"] and rule.title.strip()
    assert rule.basis == data["basis"] and rule.basis.strip()
    assert rule.exactly_defined == data.get("exactly_defined", True)
    assert {k: list(v) if isinstance(v, tuple) else v for k, v in rule.params.items()} == data["params"]


@given(st.sampled_from(RULES), st.text(min_size=1, max_size=20))
def test_a_run_overrides_only_parameters_the_data_names(rule: Rule, name: str) -> None:
    if name in rule.params:
        return
    with pytest.raises(ValueError, match="has no parameter"):
        rule.run(None, Scope.year_end(2025), {name: 1})  # type: ignore[arg-type]
