"""The export writers of issue 23 (rows as tuples, CSV a column at a time, XLSX's XML written
directly) write what the writers before them wrote: the same CSV bytes, and XLSX files whose
every cell reads back the same (value, type, number format, bold), with the same sheets,
frozen header and column widths — on every export of a real store, and on generated journals
of awkward text (Chinese, quotes, commas, line breaks, `<`, `&`, cells that start like a
formula, which must stay defused exactly as before)."""

from __future__ import annotations

import csv
import io
import re
import struct
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from domain.limits import AMOUNT_MINOR_MAX
from projections.database import ViewDatabase
from projections.export_files import FORMULA_LEADS, Column, Sheet, to_csv, to_xlsx
from projections.exports import build_export, journal_export
from projections.journal import JOURNAL_TABLE, JournalView
from projections.queries import BureauQueries
from tests.audit.conftest import AuditedStore
from tests.audit.export_writers_before import csv_before, dict_rows, xlsx_before

YEAR = 2025
AWKWARD = ["学校 XZ-0001", 'a "quoted", comma', "two\nlines", "cr\r\nlf", "<b>&amp;</b>", "a & b < c > d",
           '=HYPERLINK("http://evil.example/","x")', "+86 516", "-5", "@SUM(A1)", "\tlead", "\rlead",
           "  spaces  ", "=", "", "#N/A-ish", "拨款批准", "Allocation.Approved", "officer", "鼓楼区"]
TEXT = st.one_of(st.sampled_from(AWKWARD), st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")) | st.sampled_from("\n\r\t=+-@,\"<>&"),
    max_size=12))
EVENTS = st.sampled_from(["Allocation.Approved", "Expenditure.Recorded", "School.Registered", "Odd.Kind"])
UNITS = st.sampled_from(["CNY", "CNY", "TEACHER_POST", "NEW_UNIT", None])


@st.composite
def journal_row(draw: st.DrawFn, position: int) -> tuple[Any, ...]:
    """A journal table row (projections/journal.py's columns) dated in the year."""
    unit = draw(UNITS)
    amount = None if unit is None else draw(st.integers(-AMOUNT_MINOR_MAX, AMOUNT_MINOR_MAX))
    day = draw(st.dates(date(YEAR, 1, 1), date(YEAR, 12, 31))).isoformat()
    return (position, f"{day}T08:00:00+00:00", draw(st.none() | TEXT),
            draw(st.sampled_from(["officer", "approver", "auditor", "admin", None])),
            draw(st.sampled_from(["Allocation", "School", "UserAccount", "Unknown"])), draw(TEXT), 1,
            draw(EVENTS), amount, unit, draw(st.none() | TEXT), day, draw(st.none() | TEXT),
            draw(TEXT))


@st.composite
def journals(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    count = draw(st.integers(0, 12))
    return [draw(journal_row(position)) for position in range(1, count + 1)]


def _journal_db(rows: list[tuple[Any, ...]]) -> ViewDatabase:
    db = ViewDatabase.in_memory()
    JournalView().create_tables(db)
    db.executemany(f"INSERT INTO {JOURNAL_TABLE} VALUES ({', '.join('?' * 14)})", rows)
    return db


def _cells(data: bytes) -> dict[str, Any]:
    """Everything of a workbook a reader sees: per sheet its frozen pane, column widths and each
    cell's value, type, number format and boldness."""
    book = load_workbook(io.BytesIO(data))
    return {sheet.title: {
        "freeze": sheet.freeze_panes,
        "widths": {k: d.width for k, d in sheet.column_dimensions.items() if d.width},
        "cells": [[(c.value, c.data_type, c.number_format, bool(c.font.b)) for c in row]
                  for row in sheet.iter_rows() if any(c.value is not None for c in row)],
    } for sheet in book.worksheets}


def _same_xlsx(new: bytes, old: bytes) -> None:
    found, wanted = _cells(new), _cells(old)
    # openpyxl made a text that reads as an error code an error cell, and wrote an empty text
    # as an empty cell (read back as nothing, of type inlineStr); both now write text, or nothing.
    for sheet in wanted.values():
        sheet["cells"] = [[(v, "n" if v is None else "s" if t == "e" else t, f, b) for v, t, f, b in row]
                          for row in sheet["cells"]]
    assert found == wanted


def _journal(rows: list[tuple[Any, ...]]) -> tuple[Sheet, Sheet]:
    """The same journal twice: as the new writers read it (tuples from the query) and as the
    old ones did (a dict a row)."""
    db = _journal_db(rows)
    sheet = journal_export(db, YEAR).sheets[0]
    old = journal_export(db, YEAR).sheets[0]
    return sheet, Sheet(old.title, old.columns, list(dict_rows(old)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journals(), st.sampled_from(["zh", "en"]))
def test_journal_csv_is_byte_for_byte_what_it_was(rows: list[tuple[Any, ...]], language: str) -> None:
    new, old = _journal(rows)
    written = to_csv(new, language)
    assert written == csv_before(old, language)
    body = list(csv.reader(io.StringIO(written.decode("utf-8-sig"))))[1:]
    # defused: only an amount (a number) may start with a minus
    assert not any(cell.startswith(FORMULA_LEADS) and not re.fullmatch(r"-\d+(\.\d+)?", cell)
                   for line in body for cell in line)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journals(), st.sampled_from(["zh", "en"]))
def test_journal_xlsx_reads_back_cell_for_cell_as_it_did(rows: list[tuple[Any, ...]], language: str) -> None:
    new, old = _journal(rows)
    written = to_xlsx([new], language)
    _same_xlsx(written, xlsx_before([old], language))
    cells = [c for row in load_workbook(io.BytesIO(written))["journal"].iter_rows(min_row=2) for c in row]
    assert all(c.data_type != "f" for c in cells)  # text is never a formula
    assert all(c.number_format == "@" for c in cells
               if isinstance(c.value, str) and c.value.startswith(FORMULA_LEADS))


@pytest.mark.parametrize("kind", ["journal", "balances", "rural", "carry-over", "funds"])
@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_export_of_a_store_is_what_it_was(sqlite_audited: AuditedStore, kind: str,
                                                language: str) -> None:
    queries = BureauQueries(sqlite_audited.settings)
    try:
        def sheets() -> list[Sheet]:
            return build_export(kind, sqlite_audited.db, queries, YEAR).sheets

        old = [Sheet(s.title, s.columns, list(dict_rows(s))) for s in sheets()]
        assert to_csv(sheets()[0], language) == csv_before(old[0], language)
        _same_xlsx(to_xlsx(sheets(), language), xlsx_before(old, language))
    finally:
        queries.close()


def test_a_sheet_of_one_column_writes_its_empty_cells_as_the_csv_module_did() -> None:
    sheet = Sheet("notes", [Column("note", "备注 note")], [{"note": ""}, {"note": None}, {"note": "a,b"},
                                                          {"note": "=1"}, {"note": 7}])
    assert to_csv(sheet) == csv_before(sheet)


def test_text_xml_cannot_carry_is_escaped_not_refused() -> None:
    # A store written before text was checked may hold control characters: openpyxl refused
    # the cell and the whole export; the sheet now holds OOXML's escape for them.
    rows = [(1, f"{YEAR}-01-02T08:00:00+00:00", "officer", "officer", "School", "XZ-1", 1,
             "School.Registered", None, None, "bell\x07 and\x1b escape", f"{YEAR}-01-02", None, "ab")]
    book = load_workbook(io.BytesIO(to_xlsx(journal_export(_journal_db(rows), YEAR).sheets)))
    assert book["journal"]["L2"].value == "bell_x0007_ and_x001B_ escape"


def _first_entry_is_zip64(data: bytes) -> bool:
    """Whether the zip's first local header carries a Zip64 extra field (header id 1)."""
    name_length, extra_length = struct.unpack("<HH", data[26:30])
    return extra_length >= 4 and struct.unpack("<H", data[30 + name_length:32 + name_length])[0] == 1


def test_only_a_sheet_that_may_pass_2_gib_is_written_as_zip64_and_it_still_opens() -> None:
    from projections.xlsx_sheets import write_workbook  # noqa: PLC0415

    sheet = Sheet("notes", [Column("note", "备注 note")], [{"note": "a"}, {"note": "b"}])
    for rows_expected, zip64 in ((1_000_000, False), (10_000_000, True)):
        out = io.BytesIO()
        write_workbook([sheet], out, rows_expected=rows_expected)
        assert _first_entry_is_zip64(out.getvalue()) is zip64
        notes = load_workbook(io.BytesIO(out.getvalue()))["notes"]
        assert [c.value for c in notes["A"]] == ["备注 note", "a", "b"]


def test_the_workbook_is_a_valid_package(sqlite_audited: AuditedStore) -> None:
    import zipfile  # noqa: PLC0415

    from lxml import etree  # noqa: PLC0415

    data = to_xlsx(journal_export(sqlite_audited.db, YEAR).sheets)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert package.testzip() is None
        names = set(package.namelist())
        assert {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                "xl/styles.xml", "xl/worksheets/sheet1.xml"} <= names
        for name in names:  # every part is well-formed XML
            etree.fromstring(package.read(name))
