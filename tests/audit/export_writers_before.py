"""The export writers as they were before issue 23 wrote the sheets directly (main at 5b28771):
a row a dict, cells shown one by one, XLSX through openpyxl's write-only mode. Kept only as
the reference the new writers' files are compared with, cell by cell."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from domain.units import Unit, unit_of
from projections.export_files import FORMULA_LEADS, Sheet, headings, neutralised, shown, unit_label

_COUNT = Unit("COUNT", 0, "count", "数量")
Keys = list[tuple[str, bool, Any]]


def _unit(row: dict[str, Any]) -> Unit:
    return unit_of(row["unit"]) if row.get("unit") else _COUNT


def dict_rows(sheet: Sheet) -> Iterable[dict[str, Any]]:
    """The sheet's rows as the old writers took them, a dict a row."""
    if not sheet.tuples:
        return sheet.rows
    keys = [c.key for c in sheet.columns]
    return (dict(zip(keys, row, strict=True)) for row in sheet.rows)


def csv_before(sheet: Sheet, language: str = "en") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headings(sheet.columns, minor_first=True))
    keys = [(c.key, c.money, c.translate) for c in sheet.columns]
    for row in dict_rows(sheet):
        line: list[Any] = []
        for key, money, translate in keys:
            value = row.get(key)
            if money:
                line += [value, "" if value is None else _unit(row).format(value)]
            elif key == "unit":
                line.append(unit_label(value))
            else:
                line.append("" if value is None else neutralised(shown(value, translate, language)))
        writer.writerow(line)
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_before(sheets: Iterable[Sheet], language: str = "en") -> bytes:
    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for sheet in sheets:
        worksheet = book.create_sheet(sheet.title)
        header = headings(sheet.columns, minor_first=False)
        worksheet.freeze_panes = "A2"
        for index, title in enumerate(header, start=1):
            worksheet.column_dimensions[get_column_letter(index)].width = max(10, min(40, len(title) + 4))

        def cell(value: Any, number_format: str, worksheet: Any = worksheet) -> WriteOnlyCell:
            written = WriteOnlyCell(worksheet, value=value)
            if isinstance(value, str):
                written.data_type = "s"
            written.number_format = number_format
            return written

        heading = []
        for title in header:
            styled = WriteOnlyCell(worksheet, value=title)
            styled.font = bold
            heading.append(styled)
        worksheet.append(heading)
        keys = [(c.key, c.money, c.translate) for c in sheet.columns]
        for row in dict_rows(sheet):
            worksheet.append(_values(row, keys, cell, language))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _values(row: dict[str, Any], keys: Keys, cell: Callable[[Any, str], Any], language: str) -> list[Any]:
    values: list[Any] = []
    for key, money, translate in keys:
        value = row.get(key)
        if money and value is None:
            values += [None, None]
        elif money:
            places = _unit(row).decimal_places
            major = Decimal(value).scaleb(-places) if places else value
            values += [cell(major, "0." + "0" * places if places else "0"), cell(value, "0")]
        elif key == "unit":
            values.append(unit_label(value))
        else:
            text = shown(value, translate, language)
            if isinstance(text, str) and text.startswith(FORMULA_LEADS):
                values.append(cell(text, "@"))
            else:
                values.append(text)
    return values
