"""Spreadsheet import: a CSV of allocations or of expenditures becomes the ledger's own
commands, applied all together in one atomic batch, or not at all.

Every row is checked by the command it becomes, so an import obeys exactly the rules a
single request does (earmarks, over-allocation, overspending, voucher uniqueness, dates).
The batch collects every refused row with its line number and reason; if there is any, the
batch is abandoned and nothing is written. Each command carries the idempotency key
`import:<import id>:<line>`, so every event an import wrote names its file and line, and
a repeated import with the same key replays instead of writing twice.

The column layout is docs/import-format.md; `template_csv(kind)` is a file to fill in.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from domain.actors import Actor, Role
from domain.errors import (
    AllocationNotFound,
    ConcurrencyConflict,
    IdempotencyKeyReused,
    InvalidInput,
    LedgerError,
)
from domain.idempotency import key_scope
from domain.ledger import FundLedger
from domain.limits import IDEMPOTENCY_KEY_LENGTH_MAX
from domain.units import unit_of
from projections.database import ViewDatabase

IMPORT_ROWS_MAX = 200_000
IMPORT_BYTES_MAX = 64 * 1024 * 1024
# Every bad row is counted; the first ones are listed (a file of 100,000 bad rows would
# otherwise make an answer of megabytes that nobody reads past the first screen).
ERRORS_LISTED_MAX = 1_000
# A concurrent write to an aggregate the batch touched makes the store refuse the save;
# the import then starts again from fresh state, a bounded number of times.
IMPORT_ATTEMPTS_MAX = 3
PROGRESS_EVERY_ROWS = 500
CELL_LENGTH_MAX = 2_000

# (phase, rows done, rows in the file): phase is "checking" then "saving".
Progress = Callable[[str, int, int], None]


class ImportKind(StrEnum):
    ALLOCATIONS = "allocations"
    EXPENDITURES = "expenditures"


class ImportStatus(StrEnum):
    APPLIED = "applied"
    REJECTED = "rejected"


@dataclass(frozen=True)
class RowError:
    line: int
    code: str
    detail: str
    column: str | None = None


@dataclass
class ImportResult:
    """What an import did. `applied` rows were written exactly when `status` is applied."""

    id: str
    kind: str
    status: str
    filename: str
    actor: str
    started_at: str
    finished_at: str
    rows: int
    applied: int
    position: int
    sha256: str
    bad_rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    idempotency_key: str | None = None
    replayed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


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
_MINOR = re.compile(r"^\d{1,3}(,\d{3})+$|^\d+$")
_MAJOR = re.compile(r"^(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
_SLASH_DATE = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")


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

    def __init__(self, column: str, detail: str) -> None:
        super().__init__(detail)
        self.column = column


def _text(row: SheetRow, name: str) -> str:
    value = row.cells.get(name, "")
    if len(value) > CELL_LENGTH_MAX:
        raise CellError(name, f"{name} is longer than {CELL_LENGTH_MAX} characters")
    return value


def _optional(row: SheetRow, name: str) -> str | None:
    return _text(row, name) or None


def _required(row: SheetRow, name: str) -> str:
    value = _text(row, name)
    if not value:
        raise CellError(name, f"{name} is empty")
    return value


def parse_day(text: str, name: str) -> date:
    """ISO dates, and the YYYY/M/D that spreadsheets write."""
    slashed = _SLASH_DATE.match(text)
    try:
        if slashed:
            return date(int(slashed[1]), int(slashed[2]), int(slashed[3]))
        return date.fromisoformat(text)
    except ValueError:
        raise CellError(name, f"{name} {text!r} is not a date (YYYY-MM-DD)") from None


def parse_amount(row: SheetRow, unit_code: Callable[[], str]) -> int:
    """The row's amount in minor units: exact, never through a float."""
    if "amount_minor" in row.cells:
        text = _required(row, "amount_minor")
        if not _MINOR.match(text):
            raise CellError("amount_minor", f"amount {text!r} must be a whole number of minor "
                            "units (fen); for yuan use the column 金额(元)")
        return int(text.replace(",", ""))
    text = _required(row, "amount_major")
    if not _MAJOR.match(text):
        raise CellError("amount_major", f"amount {text!r} is not a number of yuan such as 1234.50")
    try:
        major = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise CellError("amount_major", f"amount {text!r} is not a number") from None
    unit = unit_of(unit_code())
    minor = major.scaleb(unit.decimal_places)
    if minor != minor.to_integral_value():
        raise CellError("amount_major", f"amount {text} has more than {unit.decimal_places} "
                        f"decimal places for {unit.code}")
    return int(minor)


# ------------------------------------------------------------------ records

class ImportRecords:
    """Where imports are recorded: a small table beside the events and views (the same
    SQLite file or PostgreSQL schema). The events an import wrote carry its id in their
    idempotency keys, so the record can be checked against the journal."""

    def __init__(self, db: ViewDatabase) -> None:
        self.db = db
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS imports ("
            " import_id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL,"
            " actor TEXT NOT NULL, started_at TEXT NOT NULL, sha256 TEXT NOT NULL,"
            " body TEXT NOT NULL)")

    def save(self, result: ImportResult) -> None:
        body = json.dumps(result.as_dict(), ensure_ascii=False)
        with self.db.transaction():
            self.db.execute("DELETE FROM imports WHERE import_id = ?", (result.id,))
            self.db.execute(
                "INSERT INTO imports (import_id, kind, status, actor, started_at, sha256, body) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (result.id, result.kind, result.status, result.actor, result.started_at,
                 result.sha256, body))

    def get(self, import_id: str) -> ImportResult | None:
        body = self.db.scalar("SELECT body FROM imports WHERE import_id = ?", (import_id,))
        if body is None:
            return None
        fields = json.loads(body)
        fields["errors"] = [RowError(**e) for e in fields["errors"]]
        return ImportResult(**fields)

    def close(self) -> None:
        self.db.close()


def import_id_for(actor: Actor, idempotency_key: str | None) -> str:
    """A keyed import's id follows from the key, so a repeat finds the first one."""
    if idempotency_key is None:
        return str(uuid4())
    return str(uuid5(NAMESPACE_URL, f"fundledger:import:{key_scope(actor.user_id, idempotency_key)}"))


# ------------------------------------------------------------------ the service

class BookImporter:
    """Turns a sheet's rows into ledger commands inside one batch."""

    def __init__(self, ledger: FundLedger, actor: Actor, import_id: str) -> None:
        self.ledger = ledger
        self.actor = actor
        self.import_id = import_id
        self._fund_units: dict[str, str] = {}
        self._allocation_units: dict[UUID, str] = {}
        self._by_school: dict[str, dict[str, list[UUID]]] = {}

    def row_key(self, line: int) -> str:
        return f"import:{self.import_id}:{line}"

    def apply(self, kind: ImportKind, row: SheetRow) -> None:
        if "__extra__" in row.cells:
            msg = "the row has more cells than the header has columns"
            raise InvalidInput(msg)
        if kind == ImportKind.ALLOCATIONS:
            self._allocation(row)
        else:
            self._expenditure(row)

    def _allocation(self, row: SheetRow) -> None:
        fund = _required(row, "fund")
        school = _required(row, "school")
        amount = parse_amount(row, lambda: self._fund_unit(fund))
        day = _optional(row, "effective_date")
        self.ledger.propose_allocation(
            self.actor, fund=fund, school=school, amount=amount,
            purpose=_required(row, "purpose"),
            effective_date=parse_day(day, "effective_date") if day else None,
            unit=_optional(row, "unit"), idempotency_key=self.row_key(row.line))

    def _expenditure(self, row: SheetRow) -> None:
        allocation = self._allocation_of(row)
        amount = parse_amount(row, lambda: self._allocation_unit(allocation))
        self.ledger.record_expenditure(
            self.actor, allocation=allocation, amount=amount, payee=_required(row, "payee"),
            voucher=_required(row, "voucher"),
            spent_on=parse_day(_required(row, "spent_on"), "spent_on"),
            description=_text(row, "description"),
            economic_class=_optional(row, "economic_class"), unit=_optional(row, "unit"),
            idempotency_key=self.row_key(row.line))

    def _allocation_of(self, row: SheetRow) -> UUID:
        given = _optional(row, "allocation")
        if given:
            try:
                return UUID(given)
            except ValueError:
                raise CellError("allocation", f"allocation {given!r} is not an allocation id") from None
        school = _optional(row, "school")
        fund = _optional(row, "fund")
        if not (school and fund):
            raise CellError("allocation", "give 拨款编号/allocation, or 学校代码/school and 资金代码/fund")
        found = self._open_allocations(fund).get(school, [])
        if len(found) == 1:
            return found[0]
        if not found:
            msg = f"school {school} has no approved allocation of fund {fund}"
            raise AllocationNotFound(msg)
        msg = (f"school {school} has {len(found)} approved allocations of fund {fund}; "
               "name the one to spend from in 拨款编号/allocation")
        raise InvalidInput(msg)

    def _open_allocations(self, fund_code: str) -> dict[str, list[UUID]]:
        """A fund's approved allocations by school, read once per import from the fund's own
        list (the books, not the views, which may lag)."""
        if fund_code not in self._by_school:
            fund = self.ledger.get_fund(fund_code)
            by_school: dict[str, list[UUID]] = {}
            for allocation_id in fund.allocation_ids:
                allocation = self.ledger.get_allocation(allocation_id)
                if allocation.status == "approved":
                    by_school.setdefault(allocation.school_code, []).append(allocation.id)
                    self._allocation_units[allocation.id] = allocation.unit
            self._by_school[fund_code] = by_school
        return self._by_school[fund_code]

    def _fund_unit(self, code: str) -> str:
        if code not in self._fund_units:
            self._fund_units[code] = self.ledger.get_fund(code).unit
        return self._fund_units[code]

    def _allocation_unit(self, allocation_id: UUID) -> str:
        if allocation_id not in self._allocation_units:
            self._allocation_units[allocation_id] = self.ledger.get_allocation(allocation_id).unit
        return self._allocation_units[allocation_id]


class _Abandon(Exception):
    """Raised inside the batch so that it writes nothing."""


def import_csv(ledger: FundLedger, actor: Actor, data: bytes, *, filename: str = "",
               kind: ImportKind | None = None, idempotency_key: str | None = None,
               records: ImportRecords | None = None,
               progress: Progress | None = None) -> ImportResult:
    """Applies every row of the file in one atomic batch, or none of them.

    A refused row does not stop the check: every row is tried, each against the books as
    the rows before it left them, so the answer names every bad row at once.
    """
    actor.acting_as(Role.OFFICER)
    if idempotency_key is not None and not 0 < len(idempotency_key) <= IDEMPOTENCY_KEY_LENGTH_MAX:
        msg = f"the idempotency key must be 1 to {IDEMPOTENCY_KEY_LENGTH_MAX} characters"
        raise InvalidInput(msg)
    sha256 = hashlib.sha256(data).hexdigest()
    import_id = import_id_for(actor, idempotency_key)
    if records is not None and idempotency_key is not None:
        earlier = records.get(import_id)
        if earlier is not None:
            if earlier.sha256 != sha256:
                msg = ("this idempotency key was used for a different file; use a new key for "
                       "a new import")
                raise IdempotencyKeyReused(msg)
            earlier.replayed = True
            return earlier
    sheet = read_sheet(data, kind)
    started_at = _now()
    result = ImportResult(
        id=import_id, kind=sheet.kind.value, status=ImportStatus.REJECTED.value,
        filename=filename, actor=actor.user_id, started_at=started_at, finished_at="",
        rows=len(sheet.rows), applied=0, position=0, sha256=sha256,
        idempotency_key=idempotency_key)
    importer = BookImporter(ledger, actor, import_id)
    for attempt in range(IMPORT_ATTEMPTS_MAX):
        # The first attempt assumes the file's vouchers are new (no read for each); if one is
        # not, the store refuses the save, and the next attempt reads each to name the row.
        try:
            errors, bad_rows, position, replayed = _run(
                ledger, importer, sheet, progress, optimistic=attempt == 0)
        except ConcurrencyConflict:
            if attempt == IMPORT_ATTEMPTS_MAX - 1:
                raise
            continue
        break
    result.errors = errors
    result.bad_rows = bad_rows
    result.finished_at = _now()
    if not bad_rows:
        result.status = ImportStatus.APPLIED.value
        result.applied = len(sheet.rows)
        result.position = position or ledger.last_position()
        result.replayed = replayed
    if records is not None:
        records.save(result)
    return result


def _run(ledger: FundLedger, importer: BookImporter, sheet: Sheet, progress: Progress | None,
         *, optimistic: bool) -> tuple[list[RowError], int, int, bool]:
    errors: list[RowError] = []
    bad_rows = 0
    total = len(sheet.rows)
    written = False
    try:
        with ledger.batch(optimistic=optimistic) as batch:
            for row in _rows(sheet, progress, total):
                try:
                    importer.apply(sheet.kind, row)
                except CellError as error:
                    bad_rows += 1
                    if len(errors) < ERRORS_LISTED_MAX:
                        errors.append(RowError(row.line, error.code, error.detail, error.column))
                except LedgerError as error:
                    bad_rows += 1
                    if len(errors) < ERRORS_LISTED_MAX:
                        errors.append(RowError(row.line, error.code, error.detail))
            if bad_rows:
                raise _Abandon
            if progress is not None:
                progress("saving", total, total)
            written = batch.event_count > 0
    except _Abandon:
        return errors, bad_rows, 0, False
    # A batch of nothing but replays (the same keyed rows again) wrote nothing.
    return errors, 0, batch.position, not written and total > 0


def _rows(sheet: Sheet, progress: Progress | None, total: int) -> Iterator[SheetRow]:
    for done, row in enumerate(sheet.rows):
        if progress is not None and done % PROGRESS_EVERY_ROWS == 0:
            progress("checking", done, total)
        yield row
    if progress is not None:
        progress("checking", total, total)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")

