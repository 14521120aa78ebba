"""The classification table shipped with the project, and the levels' shares of a fund."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.budget_codes import (
    ECONOMIC,
    ECONOMIC_CODE_OF_CLASS,
    FUNCTIONAL,
    check_function_code,
    default_function_code,
)
from domain.classification import Category, ExpenditureClass, Level, Source
from domain.errors import SharesMismatch, UnknownClassificationCode
from domain.provenance import check_shares, shares_of

LEVELS = [s.value for s in Source]


def test_every_expenditure_class_has_a_code_of_the_shipped_table() -> None:
    assert set(ECONOMIC_CODE_OF_CLASS) == set(ExpenditureClass)
    assert set(ECONOMIC_CODE_OF_CLASS.values()) <= set(ECONOMIC)


def test_every_default_functional_code_is_a_seven_digit_code_of_the_table() -> None:
    for category in Category:
        for levels in ([], *([level.value] for level in Level), ["primary", "junior"]):
            code = default_function_code(category.value, levels)
            assert check_function_code(code) == code
    assert FUNCTIONAL["2050202"].name_zh == "小学教育"
    with pytest.raises(UnknownClassificationCode) as refused:
        check_function_code("9999999")
    assert refused.value.field == "function_code"


shares_lists = st.lists(st.tuples(st.sampled_from(LEVELS), st.integers(1, 10**12)),
                        min_size=2, max_size=5, unique_by=lambda pair: pair[0])


@given(shares_lists)
def test_shares_that_sum_to_the_appropriation_are_accepted(pairs: list[tuple[str, int]]) -> None:
    shares = [{"source": level, "amount": amount} for level, amount in pairs]
    amount = sum(a for _, a in pairs)
    checked = check_shares(shares, amount)
    assert sum(s["amount"] for s in checked) == amount
    with pytest.raises(SharesMismatch):
        check_shares(shares, amount + 1)


@given(shares_lists, st.integers(-(10**13), 10**13))
def test_a_figure_cut_by_source_sums_back_to_the_whole(pairs: list[tuple[str, int]],
                                                      figure: int) -> None:
    """Each level's part of any figure of a shared fund (allocated, spent, an adjustment)
    adds up to the figure, and no part is off its proportion by a minor unit or more."""
    shares = [{"source": level, "amount": amount} for level, amount in pairs]
    whole = sum(a for _, a in pairs)
    parts = shares_of("county", shares, figure)
    assert sum(parts.values()) == figure
    for level, weight in pairs:
        assert abs(parts[level] * whole - figure * weight) < whole


def test_one_level_paying_it_all_has_no_shares() -> None:
    assert check_shares([{"source": "county", "amount": 5}], 5) == []
    assert shares_of("county", [], 7) == {"county": 7}
