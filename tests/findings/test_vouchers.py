from __future__ import annotations

import re
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.findings.vouchers import numbering_prefix
from tests.findings.conftest import Bureau, build_bureau

VENDOR = "徐州鸿达商贸有限公司"


def _project(bureau: Bureau, school: str, amount: int = 50_000_000) -> object:
    if "VEN-2025" not in {row for (row,) in bureau.facts().rows("SELECT fund_code FROM findings_funds")}:
        bureau.open_fund("VEN-2025", "equipment", date(2025, 2, 1))
    allocation, _ = bureau.allocate("VEN-2025", school, amount, date(2025, 2, 3), date(2025, 2, 5))
    return allocation


def test_one_invoice_paid_at_two_schools_is_a_duplicate(bureau: Bureau) -> None:
    _, first = bureau.spend(
        _project(bureau, "GL-P1"),
        1_234_567,
        date(2025, 4, 1),
        payee=VENDOR,
        voucher="FP20250001",
        economic_class="equipment",
    )
    _, second = bureau.spend(
        _project(bureau, "PZ-J1"),
        1_234_567,
        date(2025, 4, 9),
        payee=VENDOR,
        voucher="FP20250001",
        economic_class="equipment",
    )
    (finding,) = bureau.findings("duplicate_voucher")
    assert finding.key == {"payee": VENDOR, "voucher": "FP20250001"}
    assert finding.evidence == (first, second)
    assert bureau.findings("duplicate_voucher", as_of=date(2025, 4, 8)) == []


def test_consecutive_invoices_across_schools_are_found_once(bureau: Bureau) -> None:
    positions = [
        bureau.spend(
            _project(bureau, school),
            2_345_671 + n,
            date(2025, 5, 1 + n),
            payee=VENDOR,
            voucher=f"FP{7_000_100 + n}",
            economic_class="equipment",
        )[1]
        for n, school in enumerate(("GL-P1", "GL-P3", "PZ-P1"))
    ]
    (finding,) = bureau.findings("consecutive_invoices")
    assert finding.key == {"payee": VENDOR, "first_voucher": "FP7000100"}
    assert finding.evidence == tuple(positions)
    assert bureau.findings("consecutive_invoices", run_length_min=4) == []


def test_a_round_sum_payment_is_found(bureau: Bureau) -> None:
    expenditure, position = bureau.spend(
        _project(bureau, "GL-P2"), 2_000_000, date(2025, 5, 5), payee=VENDOR, economic_class="equipment"
    )
    (finding,) = bureau.findings("round_sum_payment")
    assert finding.key == {"expenditure_id": str(expenditure)}
    assert finding.evidence == (position,)


def test_payments_split_just_under_the_threshold_within_the_window_are_found(bureau: Bureau) -> None:
    allocation = _project(bureau, "GL-P3")
    _, a = bureau.spend(allocation, 9_500_012, date(2025, 6, 2), payee=VENDOR, economic_class="equipment")
    _, b = bureau.spend(allocation, 9_650_055, date(2025, 6, 12), payee=VENDOR, economic_class="equipment")
    bureau.spend(allocation, 9_700_001, date(2025, 9, 30), payee=VENDOR, economic_class="equipment")
    (finding,) = bureau.findings("split_purchase")
    assert finding.key == {"school": "GL-P3", "payee": VENDOR}
    assert finding.evidence == (a, b)
    assert bureau.findings("split_purchase", window_days=9) == []


@settings(max_examples=25, deadline=None)
@given(amount_yuan=st.integers(min_value=1, max_value=400_000), fen=st.integers(min_value=0, max_value=99))
def test_a_payment_is_a_round_sum_exactly_when_it_is_a_whole_multiple_of_ten_thousand_yuan(
    amount_yuan: int, fen: int
) -> None:
    from domain.ledger import FundLedger  # noqa: PLC0415

    ledger = FundLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: date(2025, 12, 31))
    bureau = build_bureau(ledger)
    amount = amount_yuan * 100 + fen
    bureau.spend(
        _project(bureau, "GL-P2"), amount, date(2025, 5, 5), payee=VENDOR, economic_class="equipment"
    )
    found = bureau.findings("round_sum_payment")
    assert bool(found) == (amount % 1_000_000 == 0)
    ledger.close()


# Digits of several scripts (ASCII, fullwidth, Arabic-Indic, Devanagari), letters and marks
# around them, and characters that look like digits but are not decimal (², ½, Ⅻ).
voucher_text = st.text(alphabet=st.sampled_from("0123456789１２٣٤५FP-/ 票号²½Ⅻa"), max_size=12)


@settings(max_examples=500)
@given(voucher_text)
def test_a_vouchers_numbering_is_what_precedes_its_closing_decimal_digits(voucher: str) -> None:
    """The consecutive-invoices rule groups a payee's vouchers by what precedes their closing
    number; it strips ASCII digits instead of matching `^(.*?)(\\d+)$` for speed, and must
    answer exactly the expression's first group (None where it does not match)."""
    found = re.match(r"^(.*?)(\d+)$", voucher)
    assert numbering_prefix(voucher) == (None if found is None else found.group(1))
