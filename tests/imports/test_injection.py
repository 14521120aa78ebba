"""Import injection (issue 14): cells a spreadsheet would run as formulas are refused in the
free text of names, payees and purposes, with the row named."""

from __future__ import annotations

import pytest

from domain.book_import import import_csv
from tests.conftest import OFFICER
from tests.imports.conftest import Bureau, csv_bytes


@pytest.mark.parametrize("purpose", ["=1+2", "+cmd", "-2+3", "@SUM(A1)"])
def test_import_refuses_formula_cells_in_free_text(bureau: Bureau, purpose: str) -> None:
    before = bureau.ledger.last_position()
    data = csv_bytes("学校代码,资金代码,金额(元),用途,生效日期",
                     f'XZ-PX-0001,RURAL-2025,100,"{purpose}",2025-03-01')
    result = import_csv(bureau.ledger, OFFICER, data)
    assert result.status == "rejected"
    assert [(e.line, e.code) for e in result.errors] == [(2, "invalid_input")]
    assert "formula" in result.errors[0].detail
    assert bureau.ledger.last_position() == before


@pytest.mark.parametrize(("amount", "day"), [("１２３", "2025-03-01"), ("١٢٣", "2025-03-01"),
                                             ("100", "20250301"), ("100", "2025-W09-6")])
def test_import_reads_ascii_digits_and_iso_dates_only(bureau: Bureau, amount: str,
                                                      day: str) -> None:
    before = bureau.ledger.last_position()
    data = csv_bytes("学校代码,资金代码,金额(元),用途,生效日期",
                     f"XZ-PX-0001,RURAL-2025,{amount},春季,{day}")
    result = import_csv(bureau.ledger, OFFICER, data)
    assert result.status == "rejected", result
    assert [e.line for e in result.errors] == [2]
    assert bureau.ledger.last_position() == before
