"""Import of a spreadsheet: every row or none, and every bad row named by its line."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.book_import import RowError, import_csv
from domain.errors import IdempotencyKeyReused, InvalidInput, RoleNotAllowed
from domain.idempotency import id_from_key
from domain.import_sheet import ImportKind, SheetRow, parse_amount, read_sheet, template_csv
from domain.terms import ERRORS_ZH
from tests.conftest import APPROVER, OFFICER
from tests.imports.conftest import Bureau, csv_bytes

ALLOCATIONS_ZH = "学校代码,资金代码,金额(元),用途,生效日期"


def test_a_good_allocation_file_applies_every_row(bureau: Bureau, records) -> None:
    ledger = bureau.ledger
    before = ledger.last_position()
    data = csv_bytes(ALLOCATIONS_ZH,
                     "XZ-PX-0001,RURAL-2025,\"12,500.50\",乡村学校补助,2025-03-01",
                     "XZ-PX-0002,RURAL-2025,8000,乡村学校补助,2025/3/2",
                     "XZ-GL-0001,PUB-2025,100.05,秋季公用经费,2025-09-01")
    result = import_csv(ledger, OFFICER, data, filename="三月.csv", records=records)
    assert result.status == "applied", result.errors
    assert (result.rows, result.applied, result.bad_rows) == (3, 3, 0)
    assert result.position == ledger.last_position() > before
    first = ledger.get_allocation(id_from_key("allocation", OFFICER.user_id,
                                              f"import:{result.id}:2"))
    assert (first.school_code, first.fund_code, first.amount, first.status) == (
        "XZ-PX-0001", "RURAL-2025", 1_250_050, "proposed")
    third = ledger.get_allocation(id_from_key("allocation", OFFICER.user_id,
                                              f"import:{result.id}:4"))
    assert third.amount == 10_005
    assert third.effective_date == date(2025, 9, 1)
    assert records.get(result.id) == result


def test_one_bad_row_applies_nothing_and_names_its_line(bureau: Bureau, records) -> None:
    ledger = bureau.ledger
    before = ledger.last_position()
    data = csv_bytes(ALLOCATIONS_ZH,
                     "XZ-PX-0001,RURAL-2025,1000,补助,2025-03-01",
                     "XZ-GL-0001,RURAL-2025,1000,补助,2025-03-01",  # urban: earmark refuses
                     "XZ-PX-0002,RURAL-2025,1000,补助,2025-03-01")
    result = import_csv(ledger, OFFICER, data, records=records)
    assert result.status == "rejected"
    assert (result.applied, result.bad_rows, result.position) == (0, 1, 0)
    assert [(e.line, e.code) for e in result.errors] == [(3, "earmark_violation")]
    assert "XZ-GL-0001" in result.errors[0].detail
    assert result.errors[0].reason("zh") == (
        "资金 RURAL-2025 为乡村支持专项；学校 XZ-GL-0001 于 2025-03-01 属城区，且不在脱贫地区")
    assert ledger.last_position() == before
    assert records.get(result.id).status == "rejected"
    # A record saved before reasons had Chinese reads the code's Chinese title.
    assert RowError(3, "earmark_violation", "x").reason("zh") == ERRORS_ZH["earmark_violation"]


def test_every_bad_row_is_listed_with_line_and_reason(bureau: Bureau) -> None:
    data = csv_bytes("school,fund,amount,purpose,effective_date",
                     "XZ-PX-0001,PUB-2025,100,ok,2025-03-01",
                     "XZ-NOPE,PUB-2025,100,ok,2025-03-01",
                     "XZ-PX-0001,PUB-2025,12.5,ok,2025-03-01",
                     "",
                     "XZ-PX-0001,PUB-2025,100,,2025-03-01",
                     "XZ-PX-0001,PUB-2025,100,ok,2026-01-05",
                     "XZ-PX-0001,PUB-2025,100,ok,2025-02-30",
                     "XZ-PX-0001,NOPE,100,ok,2025-03-01")
    result = import_csv(bureau.ledger, OFFICER, data)
    assert [(e.line, e.code) for e in result.errors] == [
        (3, "school_not_found"), (4, "invalid_input"), (6, "invalid_input"),
        (7, "date_in_future"), (8, "invalid_input"), (9, "fund_not_found")]
    assert result.errors[1].column == "amount_minor"
    assert result.errors[4].column == "effective_date"
    assert result.bad_rows == 6


def test_expenditures_by_school_and_fund_see_the_rows_before_them(bureau: Bureau) -> None:
    ledger = bureau.ledger
    header = "学校代码,资金代码,金额(分),收款人,凭证号,支出日期,摘要"
    good = csv_bytes(header,
                     "XZ-PX-0001,PUB-2025,60000000,徐州供电公司,V-1,2025-03-02,电费",
                     "XZ-PX-0001,PUB-2025,40000000,徐州水务,V-2,2025-03-03,水费")
    result = import_csv(ledger, OFFICER, good)
    assert result.status == "applied", result.errors
    assert ledger.get_allocation(bureau.allocations["XZ-PX-0001"]).spent == 100_000_000
    # Each row alone fits what remains of XZ-PX-0002; together they overspend.
    bad = csv_bytes(header,
                    "XZ-PX-0002,PUB-2025,60000000,a,W-1,2025-03-02,",
                    "XZ-PX-0002,PUB-2025,60000000,b,W-2,2025-03-02,",
                    "XZ-PX-0002,PUB-2025,1,c,W-1,2025-03-02,",
                    "XZ-PX-0001,PUB-2025,1,d,W-9,2025-03-02,")
    refused = import_csv(ledger, OFFICER, bad)
    assert [(e.line, e.code) for e in refused.errors] == [
        (3, "overspend"), (4, "duplicate_voucher"), (5, "overspend")]
    assert ledger.get_allocation(bureau.allocations["XZ-PX-0002"]).spent == 0


def test_a_voucher_already_in_the_books_is_named_by_its_line(bureau: Bureau) -> None:
    ledger = bureau.ledger
    header = "allocation,amount,payee,voucher,spent_on"
    allocation = bureau.allocations["XZ-PX-0001"]
    ledger.record_expenditure(OFFICER, allocation=allocation, amount=100, payee="p",
                              voucher="V-7", spent_on=date(2025, 3, 1))
    before = ledger.last_position()
    data = csv_bytes(header, f"{allocation},100,p,V-8,2025-03-02",
                     f"{allocation},100,p,V-7,2025-03-02")
    result = import_csv(ledger, OFFICER, data)
    assert [(e.line, e.code) for e in result.errors] == [(3, "duplicate_voucher")]
    assert ledger.last_position() == before


def test_the_same_keyed_file_again_writes_nothing(bureau: Bureau, records) -> None:
    ledger = bureau.ledger
    data = csv_bytes(ALLOCATIONS_ZH, "XZ-PX-0001,PUB-2025,1000,补助,2025-03-01")
    first = import_csv(ledger, OFFICER, data, idempotency_key="march", records=records)
    position = ledger.last_position()
    again = import_csv(ledger, OFFICER, data, idempotency_key="march", records=records)
    assert again.replayed and again.id == first.id and again.position == first.position
    # Even without the record (say, lost in a crash), the rows' own keys replay.
    replay = import_csv(ledger, OFFICER, data, idempotency_key="march")
    assert replay.status == "applied" and replay.replayed
    assert ledger.last_position() == position
    other = csv_bytes(ALLOCATIONS_ZH, "XZ-PX-0001,PUB-2025,2000,补助,2025-03-01")
    with pytest.raises(IdempotencyKeyReused):
        import_csv(ledger, OFFICER, other, idempotency_key="march", records=records)


def test_only_an_officer_imports(bureau: Bureau) -> None:
    with pytest.raises(RoleNotAllowed):
        import_csv(bureau.ledger, APPROVER, csv_bytes(ALLOCATIONS_ZH))


@pytest.mark.parametrize(("header", "complaint"), [
    ("学校代码,资金代码,金额,用途", "unknown column"),
    ("学校代码,资金代码,用途", "exactly one amount column"),
    ("学校代码,资金代码,金额(分),金额(元),用途", "exactly one amount column"),
    ("学校代码,金额(分),用途", "need the column"),
    ("学校代码,学校代码,资金代码,金额(分),用途", "given twice"),
    ("金额(分),收款人,凭证号,支出日期", "拨款编号/allocation, or both"),
])
def test_a_file_whose_columns_are_not_understood_is_refused(header: str, complaint: str) -> None:
    with pytest.raises(InvalidInput, match=complaint):
        read_sheet(csv_bytes(header))


def test_headers_may_be_full_width_gb18030_and_carry_note_columns() -> None:
    data = csv_bytes("序号,学校代码,资金代码,金额（元）,用途,备注",
                     "1,XZ-PX-0001,PUB-2025,10.5,公用经费,三月", encoding="gb18030")
    sheet = read_sheet(data)
    assert sheet.kind == ImportKind.ALLOCATIONS
    assert sheet.rows[0].cells == {"school": "XZ-PX-0001", "fund": "PUB-2025",
                                   "amount_major": "10.5", "purpose": "公用经费"}


@pytest.mark.parametrize("kind", list(ImportKind))
@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_template_is_a_file_the_importer_reads(kind: ImportKind, language: str) -> None:
    sheet = read_sheet(template_csv(kind, language).encode("utf-8"))
    assert sheet.kind == kind
    assert len(sheet.rows) == 1


@given(st.integers(min_value=1, max_value=10**15 - 1))
def test_yuan_with_two_decimals_is_read_exactly_as_fen(fen: int) -> None:
    yuan, cents = divmod(fen, 100)
    for text in (f"{yuan}.{cents:02d}", f"{yuan:,}.{cents:02d}"):
        row = SheetRow(2, {"amount_major": text})
        assert parse_amount(row, lambda: "CNY") == fen


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=1, max_value=9))
def test_a_third_decimal_of_yuan_is_refused(yuan: int, digit: int) -> None:
    row = SheetRow(2, {"amount_major": f"{yuan}.00{digit}"})
    with pytest.raises(InvalidInput, match="decimal places"):
        parse_amount(row, lambda: "CNY")


@given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=1, max_value=9))
def test_resource_units_take_whole_numbers_only(count: int, tenth: int) -> None:
    assert parse_amount(SheetRow(2, {"amount_major": str(count)}), lambda: "TEACHER_POST") == count
    with pytest.raises(InvalidInput):
        parse_amount(SheetRow(2, {"amount_major": f"{count}.{tenth}"}), lambda: "TEACHER_POST")


@pytest.mark.parametrize("purpose", ["乡村\u0000补助", "乡村\u202e补助", "\u200b\u200b"],
                         ids=["nul", "bidi", "invisible"])
def test_poison_text_in_a_cell_is_a_row_error(bureau: Bureau, purpose: str) -> None:
    """Issue 14: the CSV path refuses what HTTP refuses, with the line named."""
    before = bureau.ledger.last_position()
    data = csv_bytes(ALLOCATIONS_ZH, "XZ-PX-0001,RURAL-2025,100,秋季公用经费,2025-03-01",
                     f"XZ-PX-0002,RURAL-2025,100,{purpose},2025-03-01")
    result = import_csv(bureau.ledger, OFFICER, data)
    assert result.status == "rejected"
    assert [(e.line, e.code) for e in result.errors] == [(3, "invalid_input")]
    assert "purpose" in result.errors[0].detail
    assert bureau.ledger.last_position() == before
