"""How a workplace form is read (api/dashboard/workplace/forms.py), without a server: any
amount a person reads back (yuan with separators) is the same fen when typed in; whatever is
typed, the answer is a command the API's schema accepted or messages beside fields — never an
exception, never both."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.dashboard.workplace.forms import read_form
from api.schemas.allocations import ProposeAllocation
from api.schemas.expenditures import RecordExpenditure
from domain.limits import AMOUNT_MINOR_MAX
from domain.units import unit_of

FIELDS = st.dictionaries(
    st.sampled_from(["fund", "school", "amount", "purpose", "effective_date", "unit",
                     "below_standard_reason", "stray"]),
    st.text(max_size=40) | st.sampled_from(["12.34", "1,000.00", "-5", "0", "2025-02-30",
                                            "1e9", "１２３", "XZ-PX-0001"]),
    max_size=8)


@given(st.integers(min_value=1, max_value=AMOUNT_MINOR_MAX), st.booleans())
def test_an_amount_as_people_read_it_is_the_same_fen_when_typed(fen: int, grouped: bool) -> None:
    text = unit_of("CNY").format(fen)
    if grouped:
        whole, _, minor = text.partition(".")
        text = f"{int(whole):,}.{minor}"
    checked = read_form({"fund": "PUB-1", "school": "XZ-PX-0001", "amount": text,
                         "purpose": "春季"}, ProposeAllocation, "zh", amounts=("amount",))
    assert checked.errors == {}
    assert checked.command is not None and checked.command.amount == fen  # type: ignore[attr-defined]


# Generating dictionaries of text is slow on a busy machine; the check itself is fast.
PATIENT = settings(suppress_health_check=[HealthCheck.too_slow])


@PATIENT
@given(FIELDS, st.sampled_from(["zh", "en"]))
def test_whatever_is_typed_the_answer_is_a_command_or_messages(typed: dict[str, str],
                                                               language: str) -> None:
    checked = read_form(typed, ProposeAllocation, language, amounts=("amount",))
    assert (checked.command is None) == bool(checked.errors)
    assert all(message and "⟦" not in message for message in checked.errors.values())
    if checked.command is not None:  # exactly what the API itself would accept
        assert ProposeAllocation.model_validate(checked.command.model_dump()) == checked.command


@PATIENT
@given(FIELDS)
def test_an_expenditure_form_never_raises(typed: dict[str, str]) -> None:
    checked = read_form(typed, RecordExpenditure, "zh", amounts=("amount",))
    assert checked.command is None and checked.errors  # no allocation or date typed: refused
