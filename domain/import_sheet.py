"""The spreadsheet of an import: its columns (docs/import-format.md), how a CSV file is read
into rows, and how a cell becomes a date or an amount. A bad cell is a `CellError` naming its
column; what the rows mean to the books is domain/book_import.py's business.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from domain.errors import InvalidInput
from domain.units import unit_of

IMPORT_ROWS_MAX = 200_000
IMPORT_BYTES_MAX = 64 * 1024 * 1024
CELL_LENGTH_MAX = 2_000


class ImportKind(StrEnum):
    ALLOCATIONS = "allocations"
    EXPENDITURES = "expenditures"


# ------------------------------------------------------------------ columns

@dataclass(frozen=True)
class Column:
    field: str
    headers: tuple[str, ...]  # the first English and the first Chinese name are the template's
    required: bool
    help_en: str
    help_zh: str


AMOUNT_MINOR = Column("amount_minor", ("amount", "amount_minor", "amount_fen", "金额(分)"), False,
                      "integer minor units (fen for CNY)", "整数，最小单位（人民币为分）")
AMOUNT_MAJOR = Column("amount_major", ("amount_major", "amount_yuan", "金额(元)"), False,
                      "yuan with at most 2 decimals (whole numbers for resource units)",
                      "元，最多两位小数（资源单位为整数）")
UNIT = Column("unit", ("unit", "单位"), False, "optional; must equal the fund's unit",
              "可选；须与资金单位一致")

COLUMNS: dict[ImportKind, tuple[Column, ...]] = {
    ImportKind.ALLOCATIONS: (
        Column("school", ("school", "school_code", "学校代码"), True, "school code", "学校代码"),
        Column("fund", ("fund", "fund_code", "资金代码"), True, "fund code", "资金代码"),
        AMOUNT_MINOR, AMOUNT_MAJOR,
        Column("purpose", ("purpose", "用途"), True, "what the money is for", "资金用途"),
        Column("effective_date", ("effective_date", "生效日期"), False,
               "YYYY-MM-DD; default today", "YYYY-MM-DD；默认今天"),
        UNIT,
    ),
    ImportKind.EXPENDITURES: (
        Column("allocation", ("allocation", "allocation_id", "拨款编号"), False,
               "allocation id; or give school and fund", "拨款编号；或填写学校代码和资金代码"),
        Column("school", ("school", "school_code", "学校代码"), False,
               "school code (with fund, when no allocation id)", "学校代码（无拨款编号时与资金代码同填）"),
        Column("fund", ("fund", "fund_code", "资金代码"), False, "fund code", "资金代码"),
        AMOUNT_MINOR, AMOUNT_MAJOR,
        Column("payee", ("payee", "收款人"), True, "who was paid", "收款单位或个人"),
        Column("voucher", ("voucher", "voucher_number", "凭证号"), True,
               "voucher number, unique per school and year", "凭证号，同一学校同一年度唯一"),
        Column("spent_on", ("spent_on", "支出日期"), True, "YYYY-MM-DD", "YYYY-MM-DD"),
        Column("description", ("description", "摘要"), False, "what was bought", "摘要"),
        Column("economic_class", ("economic_class", "经济分类"), False,
               "optional; default from the fund's category", "可选；默认按资金类别"),
        UNIT,
    ),
}
# Columns people keep in their sheets for themselves; they are read past.
IGNORED_HEADERS = frozenset({"序号", "备注", "no", "no.", "note", "notes", "remark", "remarks"})
# A header naming the voucher says the file is of expenditures.
EXPENDITURE_MARKERS = frozenset({"voucher", "voucher_number", "凭证号", "payee", "收款人"})

_FULL_WIDTH = str.maketrans({"（": "(", "）": ")", "\u3000": " "})
# ASCII digits only (re.ASCII): Python's \d also matches full-width (１２３) and Arabic-Indic
# (١٢٣) digits, which int() and Decimal() would then quietly read.
_MINOR = re.compile(r"^\d{1,3}(,\d{3})+$|^\d+$", re.ASCII)
_MAJOR = re.compile(r"^(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$", re.ASCII)
_SLASH_DATE = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$", re.ASCII)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


def normalise_header(text: str) -> str:
    """`金额（元）`, ` Amount ` and `金额(元)` name the same column."""
    return re.sub(r"\s+", "", text.translate(_FULL_WIDTH).strip().lower())


def _header_index(kind: ImportKind) -> dict[str, Column]:
    return {normalise_header(h): column for column in COLUMNS[kind] for h in column.headers}


def template_csv(kind: ImportKind, language: str = "zh") -> str:
    """A file with the header row and one example row, to fill in (UTF-8 with BOM, as Excel
    expects)."""
    columns = [c for c in COLUMNS[kind] if c is not AMOUNT_MINOR]
    chinese = language.startswith("zh")

    def name(column: Column) -> str:
        zh = [h for h in column.headers if not h.isascii()]
        return zh[0] if chinese and zh else column.headers[0]

    example = {
        ImportKind.ALLOCATIONS: {"school": "XZ-PX-0001", "fund": "XZ-2025-PUB-PRI",
                                 "amount_major": "125000.00", "purpose": "2025年春季生均公用经费",
                                 "effective_date": "2025-02-20", "unit": "CNY"},
        ImportKind.EXPENDITURES: {"allocation": "", "school": "XZ-PX-0001",
                                  "fund": "XZ-2025-PUB-PRI", "amount_major": "3280.50",
                                  "payee": "徐州供电公司", "voucher": "2025-03-0042",
                                  "spent_on": "2025-03-15", "description": "3月电费",
                                  "economic_class": "", "unit": "CNY"},
    }[kind]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([name(c) for c in columns])
    writer.writerow([example.get(c.field, "") for c in columns])
    return "\ufeff" + out.getvalue()


# ------------------------------------------------------------------ reading

@dataclass(frozen=True)
class SheetRow:
    line: int
    cells: dict[str, str]


@dataclass
class Sheet:
    kind: ImportKind
    rows: list[SheetRow]


def decode(data: bytes) -> str:
    """UTF-8 (with or without Excel's BOM); else GB18030, which Excel on a Chinese Windows
    writes when it saves 'CSV'."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        msg = "the file is neither UTF-8 nor GB18030 text; save it as 'CSV UTF-8'"
        raise InvalidInput(msg) from None


def read_sheet(data: bytes, kind: ImportKind | None = None) -> Sheet:
    """Parses the file's header and rows; refuses a file whose columns are not understood.

    Line numbers are the file's own (the header is line 1), so a clerk finds the row in the
    spreadsheet; blank lines are skipped but keep their numbers.
    """
    if len(data) > IMPORT_BYTES_MAX:
        msg = f"the file may be at most {IMPORT_BYTES_MAX} bytes"
        raise InvalidInput(msg)
    reader = csv.reader(io.StringIO(decode(data), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        msg = "the file is empty; the first line must name the columns"
        raise InvalidInput(msg) from None
    except csv.Error as error:
        msg = f"line 1: {error}"
        raise InvalidInput(msg) from None
    names = [normalise_header(h) for h in header]
    if kind is None:
        kind = (ImportKind.EXPENDITURES if EXPENDITURE_MARKERS & set(names)
                else ImportKind.ALLOCATIONS)
    fields = _fields_of(kind, header, names)
    rows: list[SheetRow] = []
    line = reader.line_num
    try:
        for cells in reader:
            first_line = line + 1
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= IMPORT_ROWS_MAX:
                msg = f"the file has more than {IMPORT_ROWS_MAX} rows; split it"
                raise InvalidInput(msg)
            values = {f: (cells[i].strip() if i < len(cells) else "")
                      for i, f in enumerate(fields) if f is not None}
            if len(cells) > len(fields) and any(c.strip() for c in cells[len(fields):]):
                values["__extra__"] = "1"
            rows.append(SheetRow(first_line, values))
    except csv.Error as error:
        msg = f"line {reader.line_num}: {error}"
        raise InvalidInput(msg) from None
    return Sheet(kind, rows)


def _fields_of(kind: ImportKind, header: list[str], names: list[str]) -> list[str | None]:
    index = _header_index(kind)
    fields: list[str | None] = []
    unknown = []
    for original, name in zip(header, names, strict=True):
        if name in index:
            fields.append(index[name].field)
        elif name in IGNORED_HEADERS or not name:
            fields.append(None)
        else:
            unknown.append(original.strip())
            fields.append(None)
    known = ", ".join(h for c in COLUMNS[kind] for h in c.headers)
    if unknown:
        msg = f"unknown column(s) {', '.join(unknown)} for {kind} (known: {known})"
        raise InvalidInput(msg)
    duplicated = sorted({f for f in fields if f is not None and fields.count(f) > 1})
    if duplicated:
        msg = f"column(s) given twice: {', '.join(duplicated)}"
        raise InvalidInput(msg)
    present = {f for f in fields if f is not None}
    missing = [c.headers[0] + "/" + c.headers[-1] for c in COLUMNS[kind]
               if c.required and c.field not in present]
    if missing:
        msg = f"{kind} need the column(s) {', '.join(missing)}"
        raise InvalidInput(msg)
    amounts = present & {"amount_minor", "amount_major"}
    if len(amounts) != 1:
        msg = ("give exactly one amount column: 金额(分)/amount in integer minor units, or "
               "金额(元)/amount_major in yuan with at most 2 decimals")
        raise InvalidInput(msg)
    if kind == ImportKind.EXPENDITURES and "allocation" not in present and not (
            {"school", "fund"} <= present):
        msg = "expenditures need 拨款编号/allocation, or both 学校代码/school and 资金代码/fund"
        raise InvalidInput(msg)
    return fields


# ------------------------------------------------------------------ cells

class CellError(InvalidInput):
    """A cell that cannot be read, named by its column."""

    def __init__(self, column: str, detail: str, detail_zh: str | None = None) -> None:
        super().__init__(detail, detail_zh)
        self.column = column


# Cells a spreadsheet would run as a formula (OWASP CSV injection): refused in the text of
# names, payees and purposes, whatever the ledger would make of them.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
FREE_TEXT_COLUMNS = frozenset({"purpose", "payee", "description"})


def cell_text(row: SheetRow, name: str) -> str:
    value = row.cells.get(name, "")
    if len(value) > CELL_LENGTH_MAX:
        raise CellError(name, f"{name} is longer than {CELL_LENGTH_MAX} characters",
                        f"{name} 超过 {CELL_LENGTH_MAX} 个字符")
    if name in FREE_TEXT_COLUMNS and value.startswith(FORMULA_LEADS):
        raise CellError(name, f"{name} starts with {value[0]!r}, which a spreadsheet would run "
                              "as a formula; write the text without it",
                        f"{name} 以 {value[0]!r} 开头，电子表格会把它当作公式执行；请去掉该字符")
    return value


def optional_cell(row: SheetRow, name: str) -> str | None:
    return cell_text(row, name) or None


def required_cell(row: SheetRow, name: str) -> str:
    value = cell_text(row, name)
    if not value:
        raise CellError(name, f"{name} is empty", f"{name} 为空")
    return value


def parse_day(text: str, name: str) -> date:
    """ISO dates, and the YYYY/M/D that spreadsheets write."""
    slashed = _SLASH_DATE.match(text)
    try:
        if slashed:
            return date(int(slashed[1]), int(slashed[2]), int(slashed[3]))
        if not _ISO_DATE.match(text):  # fromisoformat also reads 20250301 and 2025-W09-6
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise CellError(name, f"{name} {text!r} is not a date (YYYY-MM-DD)",
                        f"{name} {text!r} 不是日期（应为 YYYY-MM-DD）") from None


def parse_amount(row: SheetRow, unit_code: Callable[[], str]) -> int:
    """The row's amount in minor units: exact, never through a float."""
    if "amount_minor" in row.cells:
        text = required_cell(row, "amount_minor")
        if not _MINOR.match(text):
            raise CellError("amount_minor", f"amount {text!r} must be a whole number of minor "
                            "units (fen); for yuan use the column 金额(元)",
                            f"金额 {text!r} 须为整数（分）；按元填写请用“金额(元)”列")
        return int(text.replace(",", ""))
    text = required_cell(row, "amount_major")
    if not _MAJOR.match(text):
        raise CellError("amount_major", f"amount {text!r} is not a number of yuan such as 1234.50",
                        f"金额 {text!r} 不是以元为单位的数字（如 1234.50）")
    try:
        major = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise CellError("amount_major", f"amount {text!r} is not a number",
                        f"金额 {text!r} 不是数字") from None
    unit = unit_of(unit_code())
    minor = major.scaleb(unit.decimal_places)
    if minor != minor.to_integral_value():
        raise CellError("amount_major", f"amount {text} has more than {unit.decimal_places} "
                        f"decimal places for {unit.code}",
                        f"金额 {text} 的小数位超过 {unit.code} 允许的 {unit.decimal_places} 位")
    return int(minor)
