"""Exports read in the person's language: bilingual headers in both formats, the values of the
books (locales, levels, districts, sources, events, roles, yes/no) named in zh or en, codes and
amounts unchanged (issue 19)."""

from __future__ import annotations

import csv
import io
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from domain.terms import DISTRICTS_ZH, ENTITY_TYPES, EVENTS, VALUES
from projections.export_files import FORMULA_LEADS, Column, Sheet, headings, to_csv
from projections.exports import build_export
from projections.queries import BureauQueries
from tests.audit.conftest import AuditedStore

YEAR = 2025
# Every raw value of the books that a zh reader must never see.
RAW = set(VALUES) | set(DISTRICTS_ZH) | set(EVENTS) | set(ENTITY_TYPES) | {"True", "False"}


def _sheets(store: AuditedStore, kind: str, output_format: str, language: str) -> dict[str, list[list[Any]]]:
    queries = BureauQueries(store.settings)
    try:
        data = build_export(kind, store.db, queries, YEAR).render(output_format, language)
    finally:
        queries.close()
    if output_format == "csv":
        return {"csv": list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))}
    book = load_workbook(io.BytesIO(data))
    return {name: [[c.value for c in row] for row in book[name].iter_rows()] for name in book.sheetnames}


def _translated_cells(store: AuditedStore, kind: str, output_format: str, language: str) -> list[Any]:
    """The cells of columns that hold values of the books (and every yes/no)."""
    queries = BureauQueries(store.settings)
    try:
        built = build_export(kind, store.db, queries, YEAR)
    finally:
        queries.close()
    sheets = built.sheets[:1] if output_format == "csv" else built.sheets
    found = _sheets(store, kind, output_format, language)
    cells: list[Any] = []
    for sheet, rows in zip(sheets, found.values(), strict=True):
        header = headings(sheet.columns, minor_first=output_format == "csv")
        assert rows[0] == header  # bilingual, whatever the language
        wanted = {c.title for c in sheet.columns if c.translate is not None}
        for row in rows[1:]:
            cells += [v for title, v in zip(header, row, strict=True)
                      if title in wanted or isinstance(v, bool) or v in ("True", "False")]
    return cells


def test_a_zh_export_names_every_value_in_chinese_in_both_formats(sqlite_audited: AuditedStore) -> None:
    for kind in ("journal", "rural", "carry-over", "funds", "balances"):
        for output_format in ("csv", "xlsx"):
            cells = _translated_cells(sqlite_audited, kind, output_format, "zh")
            assert not RAW & {str(v) for v in cells}, (kind, output_format)
    journal = _sheets(sqlite_audited, "journal", "csv", "zh")["csv"]
    events = {row[headings_index(journal, "事件 event")] for row in journal[1:]}
    assert "拨款批准" in events and "Allocation.Approved" not in events
    rural = _sheets(sqlite_audited, "rural", "xlsx", "zh")
    locales = {row[1] for row in rural["rural_support"][1:]}
    assert locales == {"城区", "乡村", "镇区"}
    counties = rural["counties"]
    column = counties[0].index("达标 within threshold")
    assert {row[column] for row in counties[1:]} <= {"是", "否", None}
    assert {row[counties[0].index("学段 level")] for row in counties[1:]} <= {"小学", "初中"}


def headings_index(rows: list[list[Any]], title: str) -> int:
    return rows[0].index(title)


def test_an_en_export_names_the_values_in_english_and_keeps_codes_and_amounts(
        sqlite_audited: AuditedStore) -> None:
    rural = _sheets(sqlite_audited, "rural", "xlsx", "en")
    assert {row[1] for row in rural["rural_support"][1:]} == {"urban", "rural", "town"}
    zh = _sheets(sqlite_audited, "rural", "xlsx", "zh")
    amounts = rural["rural_support"][0].index("allocated_minor")
    assert [r[amounts] for r in rural["rural_support"]] == [r[amounts] for r in zh["rural_support"]]
    journal = _sheets(sqlite_audited, "journal", "csv", "en")["csv"]
    events = {row[headings_index(journal, "事件 event")] for row in journal[1:]}
    assert "Allocation approved" in events and "拨款批准" not in events
    funds = _sheets(sqlite_audited, "funds", "csv", "en")["csv"]
    zh_funds = _sheets(sqlite_audited, "funds", "csv", "zh")["csv"]
    code = headings_index(funds, "资金 fund")
    assert [r[code] for r in funds] == [r[code] for r in zh_funds]  # codes never translated


@given(st.text(max_size=12), st.sampled_from(["zh", "en"]))
def test_translated_values_stay_neutralised(text: str, language: str) -> None:
    sheet = Sheet("s", [Column("district", "区县 district", translate=lambda v, lang: v)],
                  [{"district": text}])
    row = next(csv.reader(io.StringIO(to_csv(sheet, language).decode("utf-8-sig").split("\r\n", 1)[1])))
    if text:
        assert not row[0].startswith(FORMULA_LEADS[:4])
