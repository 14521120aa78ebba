"""An export as files: its sheets (columns, rows that may be a stream) written as CSV or XLSX.

Amounts stay integers in their unit's minor unit (fen for CNY): CSV carries the integer
column (`allocated_minor`) and a formatted one (`allocated`, e.g. `1234.50`) side by side;
XLSX shows yuan with two decimals (number format `0.00`) computed from the integer for display
only, next to the exact integer column. Every amount row names its unit with its Chinese label.
CSV is UTF-8 with a byte-order mark, so Excel opens Chinese names correctly.

Both formats head each column with its bilingual title (学校代码 school) whatever the reader's
language — one header row that a zh and an en reader both read, and that scripts can match on —
and write the values of the books (locales, levels, sources, districts, events, yes/no) in the
reader's language through domain/terms.py; codes and amounts never change with the language.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from domain.terms import term
from domain.units import Unit, unit_of

FORMATS = ("csv", "xlsx")
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
EXPORT_ROWS_MAX = 1_000_000  # an XLSX sheet holds 1,048,576 rows


class ExportTooLarge(ValueError):
    """More rows than one sheet can hold: narrow the export (a year, a date)."""


Translate = Callable[[str, str], str]  # (value, language) -> the value as a person reads it


@dataclass(frozen=True)
class Column:
    key: str
    title: str  # bilingual, 中文 English: the header in either language
    money: bool = False  # an amount in the row's `unit`, in minor units
    translate: Translate | None = None  # a value of the books: named in the reader's language


def headings(columns: list[Column], minor_first: bool) -> list[str]:
    """The header row: each column's title; an amount's exact integer column beside it under
    its machine name (`allocated_minor`), before it in CSV and after it in XLSX."""
    header: list[str] = []
    for column in columns:
        if not column.money:
            header.append(column.title)
        elif minor_first:
            header += [f"{column.key}_minor", column.title]
        else:
            header += [column.title, f"{column.key}_minor"]
    return header


def shown(value: Any, translate: Translate | None, language: str) -> Any:
    """A cell's value as the reader reads it: a value of the books in their language, a
    yes/no as 是/否 or yes/no; anything else (codes, numbers, dates) as it is."""
    if isinstance(value, bool):
        return term(value, language)
    if translate is not None and isinstance(value, str):
        return translate(value, language)
    return value


@dataclass
class Sheet:
    """A sheet's columns and rows; the rows may be a stream, read once as they are written."""

    title: str
    columns: list[Column]
    rows: Iterable[dict[str, Any]]


Progress = Callable[[int], None]  # called with the rows written so far


@dataclass
class Export:
    """A named set of sheets; the first is the one CSV carries. `rows_expected` is how many
    rows the first sheet will have, when known before writing (for a job's progress)."""

    name: str
    sheets: list[Sheet]
    rows_expected: int | None = None

    def filename(self, output_format: str) -> str:
        return f"{self.name}.{output_format}"

    def render(self, output_format: str, language: str = "en") -> bytes:
        buffer = io.BytesIO()
        self.write(output_format, buffer, language=language)
        return buffer.getvalue()

    def write(self, output_format: str, out: IO[bytes], progress: Progress | None = None,
              language: str = "en") -> None:
        """Writes the file to `out` as the rows are read: memory stays flat however many."""
        if output_format == "csv":
            write_csv(self.sheets[0], out, progress, language)
        elif output_format == "xlsx":
            write_xlsx(self.sheets, out, progress, language)
        else:
            msg = f"format must be one of {', '.join(FORMATS)}, not {output_format!r}"
            raise ValueError(msg)


def _unit(row: dict[str, Any]) -> Unit:
    return unit_of(row["unit"]) if row.get("unit") else _COUNT


_COUNT = Unit("COUNT", 0, "count", "数量")  # an amount whose unit the journal does not know


def unit_label(code: str | None) -> str:
    if code is None:
        return ""
    unit = unit_of(code)
    return f"{unit.code} ({unit.label_zh})"


PROGRESS_EVERY_ROWS = 5_000


CSV_BUFFER_ROWS = 2_000  # rows encoded and written together


# OWASP's rule for CSV injection: a text cell starting with one of these is opened as a
# formula by spreadsheets; a leading apostrophe makes it text.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: Any) -> Any:
    """A CSV cell that no spreadsheet runs as a formula (numbers pass unchanged)."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def to_csv(sheet: Sheet, language: str = "en") -> bytes:
    buffer = io.BytesIO()
    write_csv(sheet, buffer, language=language)
    return buffer.getvalue()


def write_csv(sheet: Sheet, out: IO[bytes], progress: Progress | None = None,
              language: str = "en") -> None:
    """UTF-8 with BOM; each amount as its integer minor units and formatted beside it."""
    for chunk in csv_chunks(sheet, progress, language):
        out.write(chunk)


def csv_chunks(sheet: Sheet, progress: Progress | None = None,
               language: str = "en") -> Iterator[bytes]:
    """The CSV file a few thousand rows at a time, as the rows are read."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headings(sheet.columns, minor_first=True))
    yield buffer.getvalue().encode("utf-8-sig")
    buffer.seek(0)
    buffer.truncate()
    keys = [(c.key, c.money, c.translate) for c in sheet.columns]
    labels: dict[str | None, str] = {}
    written = 0
    for row in sheet.rows:
        line: list[Any] = []
        for key, money, translate in keys:
            value = row.get(key)
            if money:
                line += [value, "" if value is None else _unit(row).format(value)]
            elif key == "unit":
                if value not in labels:
                    labels[value] = unit_label(value)
                line.append(labels[value])
            else:
                line.append("" if value is None else neutralised(shown(value, translate, language)))
        writer.writerow(line)
        written += 1
        if written % CSV_BUFFER_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            if progress is not None and written % PROGRESS_EVERY_ROWS == 0:
                progress(written)
    yield buffer.getvalue().encode("utf-8")
    if progress is not None:
        progress(written)


def to_xlsx(sheets: Iterable[Sheet], language: str = "en") -> bytes:
    buffer = io.BytesIO()
    write_xlsx(sheets, buffer, language=language)
    return buffer.getvalue()


def write_xlsx(sheets: Iterable[Sheet], out: IO[bytes], progress: Progress | None = None,
               language: str = "en") -> None:
    """One worksheet per sheet: bold titled header, frozen; amounts shown in their major
    unit with the unit's decimals, their exact minor units in the next column.

    Written in openpyxl's write-only mode: rows stream out as they come (to a temporary
    file the library keeps per sheet), so a year's journal costs time in proportion to its
    rows and memory not at all. Only amounts are styled cells (their number format); every
    other value goes in as it is, which the library writes without building a cell."""
    from openpyxl import Workbook  # noqa: PLC0415  (only this format needs it)
    from openpyxl.cell import WriteOnlyCell  # noqa: PLC0415
    from openpyxl.styles import Font  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for number, sheet in enumerate(sheets):
        worksheet = book.create_sheet(sheet.title)
        header = headings(sheet.columns, minor_first=False)
        worksheet.freeze_panes = "A2"
        for index, title in enumerate(header, start=1):
            letter = get_column_letter(index)
            worksheet.column_dimensions[letter].width = max(10, min(40, len(title) + 4))

        def cell(value: Any, number_format: str, worksheet: Any = worksheet) -> WriteOnlyCell:
            written = WriteOnlyCell(worksheet, value=value)
            if isinstance(value, str):
                written.data_type = "s"  # text is text: never a formula (`=HYPERLINK(…)`)
            written.number_format = number_format
            return written

        heading = []
        for title in header:
            styled = WriteOnlyCell(worksheet, value=title)
            styled.font = bold
            heading.append(styled)
        worksheet.append(heading)
        keys = [(c.key, c.money, c.translate) for c in sheet.columns]
        labels: dict[str | None, str] = {}
        written = 0
        for row in sheet.rows:
            worksheet.append(_xlsx_values(row, keys, cell, labels, language))
            written += 1
            if number == 0 and progress is not None and written % PROGRESS_EVERY_ROWS == 0:
                progress(written)
        if number == 0 and progress is not None:
            progress(written)
    book.save(out)


def _xlsx_values(row: dict[str, Any], keys: list[tuple[str, bool, Translate | None]],
                 cell: Callable[[Any, str], Any], labels: dict[str | None, str],
                 language: str) -> list[Any]:
    values: list[Any] = []
    for key, money, translate in keys:
        value = row.get(key)
        if money and value is None:
            values += [None, None]
        elif money:
            places = _unit(row).decimal_places
            # Display only, exact (a Decimal, never a float): the integer next to it is the
            # amount of record.
            major = Decimal(value).scaleb(-places) if places else value
            values += [cell(major, "0." + "0" * places if places else "0"), cell(value, "0")]
        elif key == "unit":
            if value not in labels:
                labels[value] = unit_label(value)
            values.append(labels[value])
        else:
            text = shown(value, translate, language)
            if isinstance(text, str) and text.startswith(FORMULA_LEADS):
                # openpyxl would write `=HYPERLINK(…)` as a live formula: a text cell instead.
                values.append(cell(text, "@"))
            else:
                values.append(text)
    return values


def _check_size(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(rows) > EXPORT_ROWS_MAX:
        msg = f"the export has more than {EXPORT_ROWS_MAX} rows; ask for a narrower one"
        raise ExportTooLarge(msg)
    return rows
