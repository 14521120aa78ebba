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
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice, repeat
from operator import methodcaller
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
    rows: Iterable[dict[str, Any]] | Iterable[tuple[Any, ...]]
    tuples: bool = False  # rows are tuples in the columns' order (straight from SQL), not dicts


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
            write_xlsx(self.sheets, out, progress, language, self.rows_expected)
        else:
            msg = f"format must be one of {', '.join(FORMATS)}, not {output_format!r}"
            raise ValueError(msg)


def row_tuples(sheet: Sheet) -> Iterator[tuple[Any, ...]]:
    """The sheet's rows as tuples in its columns' order (the row's `unit` last when it is no
    column of the sheet), whatever shape they came in."""
    if sheet.tuples:
        return iter(sheet.rows)  # type: ignore[arg-type]
    keys = _fields(sheet)
    return (tuple(map(row.get, keys)) for row in sheet.rows)  # type: ignore[union-attr]


def _fields(sheet: Sheet) -> list[str]:
    keys = [c.key for c in sheet.columns]
    return keys if "unit" in keys or sheet.tuples else [*keys, "unit"]


_COUNT = Unit("COUNT", 0, "count", "数量")  # an amount whose unit the journal does not know


def unit_label(code: str | None) -> str:
    if code is None:
        return ""
    unit = unit_of(code)
    return f"{unit.code} ({unit.label_zh})"


class Known(dict[Any, Any]):
    """Each value's cell made once, for columns of few distinct values (roles, events, units).
    Only text (and None) is remembered: True == 1, yet they are different cells."""

    def __init__(self, make: Callable[[Any], Any]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, value: Any) -> Any:
        cell = self.make(value)
        if value is None or value.__class__ is str:
            self[value] = cell
        return cell


@dataclass(frozen=True)
class Step:
    """How one column of a tuple row becomes its cells: `at` in the row; an amount (two cells,
    its major unit needing the row's unit), or cells that `make` makes (from a value or from a
    batch's column of them, as the writer chose)."""

    at: int
    money: bool
    make: Callable[[Any], Any]


def steps(sheet: Sheet, cell: Callable[[Column], Callable[[Any], Any]]) -> tuple[list[Step], int | None]:
    """Each column's step (`cell(column)` makes its cells from values), and where the row's
    unit is (None: the rows have none, their amounts are counts)."""
    fields = _fields(sheet)
    plan = [Step(at, column.money, cell(column)) for at, column in enumerate(sheet.columns)]
    return plan, fields.index("unit") if "unit" in fields else None


def units() -> Known:
    """Units by code, each looked up once (no code: a count)."""
    return Known(lambda code: unit_of(code) if code else _COUNT)


# Rows formatted and written together (and the job's progress told after each batch): few
# enough that a batch's row tuples die young in the garbage collector's first generations —
# batches of 5,000 lived long enough to be walked again and again, a third of the CPU here.
BATCH_ROWS = 500


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
    """The CSV file a few thousand rows at a time, as the rows are read.

    Rows stay tuples from the query to the writer, and each batch is formatted a column at a
    time (a CSV cell depends only on its own value, an amount's also on the row's unit): a
    value of the books is named once per distinct value; text is defused, and quoted as the
    csv module quotes it, after one regular-expression scan of the column finds a cell that
    needs it; the lines are joined at once. No Python code runs per cell unless it has
    something to change (600,000 rows a year)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(headings(sheet.columns, minor_first=True))
    yield buffer.getvalue().encode("utf-8-sig")
    cells = _csv_columns(sheet, language)
    rows = row_tuples(sheet)
    written = 0
    while batch := list(islice(rows, BATCH_ROWS)):
        fields = list(map(_csv_fields, cells(batch)))
        if len(fields) == 1:  # the csv module quotes a line's one field when it is empty
            fields = [['""' if field == "" else field for field in fields[0]]]
        yield ("\r\n".join(map(",".join, zip(*fields, strict=True))) + "\r\n").encode("utf-8")
        written += len(batch)
        if progress is not None:
            progress(written)
    if progress is not None and not written:
        progress(0)


Cells = Sequence[Any]
# What makes the csv module quote a field (its excel dialect, minimal quoting).
_QUOTED = re.compile('[,"\r\n]')


def _csv_fields(values: Cells) -> Sequence[str]:
    """A column's cells as the csv module writes them: None empty, numbers as `str`, a field
    holding a comma, quote or line break in quotes (its quotes doubled)."""
    try:
        joined = "\0".join(values)
    except TypeError:  # numbers, None
        values = ["" if value is None else str(value) for value in values]
        joined = "\0".join(values)
    if _QUOTED.search(joined) is None:
        return values
    return ['"' + value.replace('"', '""') + '"' if _QUOTED.search(value) else value for value in values]


def _csv_columns(sheet: Sheet, language: str) -> Callable[[list[tuple[Any, ...]]], list[Cells]]:
    """A function from a batch of rows to the CSV's columns of cells."""
    plan, unit_at = steps(sheet, lambda column: _csv_column(column, language))
    known_units = units()

    def major(value: int | None, unit: str | None) -> str:
        return "" if value is None else known_units[unit].format(value)

    def columns(batch: list[tuple[Any, ...]]) -> list[Cells]:
        values = list(zip(*batch, strict=True))
        unit_codes = values[unit_at] if unit_at is not None else repeat(None)
        out: list[Cells] = []
        for step in plan:
            if step.money:  # the exact integer (None an empty cell), then for people
                out += [values[step.at], list(map(major, values[step.at], unit_codes))]
            else:
                out.append(step.make(values[step.at]))
        return out
    return columns


_LEADS = methodcaller("startswith", FORMULA_LEADS)
_NUMBERS = {int, float}
# A cell of a column joined with NULs that starts like a formula (a NUL inside a cell can only
# raise a false alarm, which the cell-by-cell pass then clears).
_LEAD_AFTER_SEPARATOR = re.compile("\0[" + re.escape("".join(FORMULA_LEADS)) + "]")


def _csv_column(column: Column, language: str) -> Callable[[Cells], Cells]:
    if column.key == "unit":
        labels = Known(unit_label)
        return lambda values: list(map(labels.__getitem__, values))
    if column.translate is not None:
        translate = column.translate
        named = Known(lambda value: "" if value is None else neutralised(shown(value, translate, language)))
        return lambda values: list(map(named.__getitem__, values))

    def one(value: Any) -> Any:
        return "" if value is None else neutralised(shown(value, None, language))

    def text(values: Cells) -> Cells:
        if None in values:
            values = ["" if value is None else value for value in values]
        try:
            if _LEAD_AFTER_SEPARATOR.search("\0" + "\0".join(values)) is None:
                return values  # the usual batch: no cell starts like a formula
        except TypeError:  # not all text: numbers as they are, anything else cell by cell
            return values if set(map(type, values)) <= _NUMBERS else list(map(one, values))
        leads = map(_LEADS, values)
        return ["'" + value if lead else value for value, lead in zip(values, leads, strict=True)]
    return text


def to_xlsx(sheets: Iterable[Sheet], language: str = "en") -> bytes:
    buffer = io.BytesIO()
    write_xlsx(sheets, buffer, language=language)
    return buffer.getvalue()


def write_xlsx(sheets: Iterable[Sheet], out: IO[bytes], progress: Progress | None = None,
               language: str = "en", rows_expected: int | None = None) -> None:
    """One worksheet per sheet: bold titled header, frozen; amounts shown in their major
    unit with the unit's decimals, their exact minor units in the next column. Written as
    the rows are read (projections/xlsx_sheets.py): memory stays flat however many."""
    from projections.xlsx_sheets import write_workbook  # noqa: PLC0415  (it builds on this module)

    write_workbook(sheets, out, progress, language, rows_expected)


def _check_size(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(rows) > EXPORT_ROWS_MAX:
        msg = f"the export has more than {EXPORT_ROWS_MAX} rows; ask for a narrower one"
        raise ExportTooLarge(msg)
    return rows
