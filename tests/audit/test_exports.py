"""Exports open back with openpyxl (and Excel's CSV reader) with the expected sheets, headers,
units and totals; amounts stay integers, shown in yuan with two decimals."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import load_workbook

from projections.export_files import Column, Sheet, to_xlsx
from projections.exports import balance_rows_from_views, build_export
from projections.queries import BureauQueries
from tests.audit.conftest import AuditedStore

YEAR = 2025
ALLOCATED = 1_000_000 + 2_000_000 + 3_000_000 + 3_000_000
SPENT = sum(10_000 * (index + month) for month in (3, 6, 9) for index in range(4))


def _export(store: AuditedStore, kind: str, output_format: str, as_of: date | None = None) -> bytes:
    queries = BureauQueries(store.settings)
    try:
        return build_export(kind, store.db, queries, YEAR, as_of).render(output_format)
    finally:
        queries.close()


def test_balances_xlsx_has_its_sheets_headers_and_totals(sqlite_audited: AuditedStore) -> None:
    book = load_workbook(io.BytesIO(_export(sqlite_audited, "balances", "xlsx")))
    assert book.sheetnames == ["balances", "totals"]
    sheet = book["balances"]
    header = [cell.value for cell in sheet[1]]
    assert header[:6] == ["学校代码 school", "学校名称 name", "区县 district", "年度 fiscal year",
                          "资金 fund", "单位 unit"]
    assert header[6:8] == ["已分配 allocated", "allocated_minor"]
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert sum(r["allocated_minor"] for r in rows) == ALLOCATED
    assert sum(r["spent_minor"] for r in rows) == SPENT
    assert {r["单位 unit"] for r in rows} == {"CNY (元)"}
    assert {r["学校名称 name"] for r in rows} >= {"学校 XZ-PZ-0002"}
    first = sheet.cell(row=2, column=7)
    assert first.number_format == "0.00"
    assert first.value == rows[0]["allocated_minor"] / 100
    totals = book["totals"]
    assert [c.value for c in totals[1]][:3] == ["单位 unit", "已分配 allocated", "allocated_minor"]
    total = [c.value for c in totals[2]]
    assert total[0] == "CNY (元)"
    assert total[2] == ALLOCATED
    assert total[1] == ALLOCATED / 100
    assert total[4] == SPENT


def test_balances_as_of_a_date_count_only_what_took_effect_by_then(sqlite_audited: AuditedStore) -> None:
    rows = balance_rows_from_views(sqlite_audited.db, YEAR, as_of=date(YEAR, 2, 28))
    assert sum(r["allocated"] for r in rows) == 6_000_000  # the rural allocation came in March
    assert sum(r["spent"] for r in rows) == 0


def test_balances_csv_opens_in_excel_with_chinese_and_integer_minor_units(
        sqlite_audited: AuditedStore) -> None:
    data = _export(sqlite_audited, "balances", "csv")
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM that tells Excel it is UTF-8
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert sum(int(r["allocated_minor"]) for r in rows) == ALLOCATED
    one = rows[0]
    assert one["已分配 allocated"] == \
        f"{int(one['allocated_minor']) // 100}.{int(one['allocated_minor']) % 100:02d}"
    assert any(r["学校名称 name"].startswith("学校") for r in rows)


def test_rural_xlsx_has_rows_counties_totals_and_summary(sqlite_audited: AuditedStore) -> None:
    book = load_workbook(io.BytesIO(_export(sqlite_audited, "rural", "xlsx")))
    assert book.sheetnames == ["rural_support", "counties", "totals", "summary"]
    header = [c.value for c in book["rural_support"][1]]
    assert header[:5] == ["区县 district", "城乡 locale", "单位 unit", "学校数 schools", "学生数 students"]
    rows = [dict(zip(header, (c.value for c in row), strict=True))
            for row in book["rural_support"].iter_rows(min_row=2)]
    assert sum(r["allocated_minor"] for r in rows) == ALLOCATED
    assert {(r["区县 district"], r["城乡 locale"]) for r in rows} == {
        ("鼓楼区", "urban"), ("邳州市", "rural"), ("邳州市", "town")}
    summary = {row[0].value: row[1].value for row in book["summary"].iter_rows(min_row=2)}
    assert summary["fiscal_year 年度"] == YEAR


def test_journal_csv_has_every_event_of_the_year_with_its_hash(sqlite_audited: AuditedStore) -> None:
    rows = list(csv.DictReader(io.StringIO(_export(sqlite_audited, "journal", "csv").decode("utf-8-sig"))))
    approvals = [r for r in rows if r["事件 event"] == "Allocation approved"]
    assert len(approvals) == 4
    assert approvals[0]["amount_minor"] == "1000000"
    assert approvals[0]["金额 amount"] == "10000.00"
    assert approvals[0]["单位 unit"] == "CNY (元)"
    assert all(len(r["哈希链 chain hash"]) == 64 for r in rows)
    positions = [int(r["位置 position"]) for r in rows]
    assert positions == sorted(positions)


def test_a_large_xlsx_export_keeps_every_row_exact() -> None:
    # A real year's journal has hundreds of thousands of rows; the sheet is written streaming.
    columns = [Column("entity", "entity"), Column("unit", "unit"), Column("amount", "amount", money=True)]
    rows = [{"entity": f"e{i}", "unit": "CNY", "amount": 1 + i} for i in range(10_000)]
    sheet = load_workbook(io.BytesIO(to_xlsx([Sheet("journal", columns, rows)])))["journal"]
    assert sheet.max_row == 10_001
    assert sheet.freeze_panes == "A2"
    assert [c.font.b for c in sheet[1]] == [True] * 4
    last = [c.value for c in sheet[10_001]]
    assert last == ["e9999", "CNY (元)", 100, 10_000]
    assert sheet.cell(row=10_001, column=3).number_format == "0.00"
    assert sum(c.value for c in sheet["D"][1:]) == sum(r["amount"] for r in rows)
