"""The one way an amount is written for a person (domain.units.money_text)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from domain.limits import AMOUNT_MINOR_MAX
from domain.units import money_text

amounts = st.integers(min_value=-AMOUNT_MINOR_MAX, max_value=AMOUNT_MINOR_MAX)


@given(amounts)
def test_yuan_text_reads_back_to_the_exact_fen(amount: int) -> None:
    english = money_text(amount, "CNY", "en")
    chinese = money_text(amount, "CNY", "zh")
    assert chinese.endswith(" 元")
    figure = english.replace("¥", "").replace(",", "")
    assert int(Decimal(figure) * 100) == amount
    assert chinese[:-2].replace(",", "") == figure
    assert english.split(".")[-1].isdigit() and len(english.split(".")[-1]) == 2


@given(st.integers(min_value=0, max_value=AMOUNT_MINOR_MAX))
def test_resource_counts_carry_their_own_name(count: int) -> None:
    assert money_text(count, "TEACHER_POST", "zh") == f"{count:,} 个教师编制"
    assert money_text(count, "TEACHER_POST", "en") == f"{count:,} teacher posts"


def test_examples_from_the_issue() -> None:
    assert money_text(4_551_950, "CNY", "en") == "¥45,519.50"
    assert money_text(4_551_950, "CNY", "zh") == "45,519.50 元"
    assert money_text(-5, "CNY", "en") == "-¥0.05"
    assert money_text(3, "TEACHER_POST", "zh") == "3 个教师编制"
