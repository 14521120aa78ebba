"""Spreadsheet import: a CSV of allocations or of expenditures becomes the ledger's own
commands, applied all together in one atomic batch, or not at all.

Every row is checked by the command it becomes, so an import obeys exactly the rules a
single request does (earmarks, over-allocation, overspending, voucher uniqueness, dates).
The batch collects every refused row with its line number and reason; if there is any, the
batch is abandoned and nothing is written. Each command carries the idempotency key
`import:<import id>:<line>`, so every event an import wrote names its file and line, and
a repeated import with the same key replays instead of writing twice.

The column layout and the reading of cells are domain/import_sheet.py; where imports are
recorded, projections/import_records.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol
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
from domain.import_sheet import (
    CellError,
    ImportKind,
    Sheet,
    SheetRow,
    cell_text,
    optional_cell,
    parse_amount,
    parse_day,
    read_sheet,
    required_cell,
)
from domain.ledger import FundLedger
from domain.limits import IDEMPOTENCY_KEY_LENGTH_MAX
from domain.terms import ERRORS_ZH

# Every bad row is counted; the first ones are listed (a file of 100,000 bad rows would
# otherwise make an answer of megabytes that nobody reads past the first screen).
ERRORS_LISTED_MAX = 1_000
# A concurrent write to an aggregate the batch touched makes the store refuse the save;
# the import then starts again from fresh state, a bounded number of times.
IMPORT_ATTEMPTS_MAX = 3
PROGRESS_EVERY_ROWS = 500

# (phase, rows done, rows in the file): phase is "checking" then "saving".
Progress = Callable[[str, int, int], None]


class ImportStatus(StrEnum):
    APPLIED = "applied"
    REJECTED = "rejected"


@dataclass(frozen=True)
class RowError:
    line: int
    code: str
    detail: str
    column: str | None = None
    # The reason for a Chinese reader, where the rule wrote one (records saved before there
    # was one have None: the code's Chinese title serves, domain/terms.py ERRORS_ZH).
    detail_zh: str | None = None

    def reason(self, language: str) -> str:
        """The row's reason in the language (zh: the rule's Chinese, else the code's title)."""
        if not language.startswith("zh"):
            return self.detail
        return self.detail_zh or ERRORS_ZH.get(self.code, self.code)

    def detail_in(self, language: str) -> str:
        """The reason beside the code's title (pages show both): zh the rule's Chinese or
        nothing, never the English sentence beside a Chinese title."""
        if language.startswith("zh"):
            return self.detail_zh or ""
        return self.detail


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


class ImportLog(Protocol):
    """Where imports are recorded (projections/import_records.py `ImportRecords`)."""

    def get(self, import_id: str) -> ImportResult | None: ...

    def save(self, result: ImportResult) -> None: ...


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
            raise InvalidInput(msg, "该行单元格数多于表头列数")
        if kind == ImportKind.ALLOCATIONS:
            self._allocation(row)
        else:
            self._expenditure(row)

    def _allocation(self, row: SheetRow) -> None:
        fund = required_cell(row, "fund")
        school = required_cell(row, "school")
        amount = parse_amount(row, lambda: self._fund_unit(fund))
        day = optional_cell(row, "effective_date")
        self.ledger.propose_allocation(
            self.actor, fund=fund, school=school, amount=amount,
            purpose=required_cell(row, "purpose"),
            effective_date=parse_day(day, "effective_date") if day else None,
            unit=optional_cell(row, "unit"), idempotency_key=self.row_key(row.line))

    def _expenditure(self, row: SheetRow) -> None:
        allocation = self._allocation_of(row)
        amount = parse_amount(row, lambda: self._allocation_unit(allocation))
        self.ledger.record_expenditure(
            self.actor, allocation=allocation, amount=amount, payee=required_cell(row, "payee"),
            voucher=required_cell(row, "voucher"),
            spent_on=parse_day(required_cell(row, "spent_on"), "spent_on"),
            description=cell_text(row, "description"),
            economic_class=optional_cell(row, "economic_class"), unit=optional_cell(row, "unit"),
            idempotency_key=self.row_key(row.line))

    def _allocation_of(self, row: SheetRow) -> UUID:
        given = optional_cell(row, "allocation")
        if given:
            try:
                return UUID(given)
            except ValueError:
                raise CellError("allocation", f"allocation {given!r} is not an allocation id",
                                f"拨款编号 {given!r} 不是有效的拨款编号") from None
        school = optional_cell(row, "school")
        fund = optional_cell(row, "fund")
        if not (school and fund):
            raise CellError("allocation", "give 拨款编号/allocation, or 学校代码/school and 资金代码/fund",
                            "请填写“拨款编号”，或同时填写“学校代码”和“资金代码”")
        found = self._open_allocations(fund).get(school, [])
        if len(found) == 1:
            return found[0]
        if not found:
            msg = f"school {school} has no approved allocation of fund {fund}"
            raise AllocationNotFound(msg, f"学校 {school} 没有资金 {fund} 的已批准拨款")
        msg = (f"school {school} has {len(found)} approved allocations of fund {fund}; "
               "name the one to spend from in 拨款编号/allocation")
        raise InvalidInput(msg, f"学校 {school} 有 {len(found)} 笔资金 {fund} 的已批准拨款，"
                                "请在“拨款编号”列指明从哪一笔支出")

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

    def _fund_unit(self, fund_code: str) -> str:
        if fund_code not in self._fund_units:
            self._fund_units[fund_code] = self.ledger.get_fund(fund_code).unit
        return self._fund_units[fund_code]

    def _allocation_unit(self, allocation_id: UUID) -> str:
        if allocation_id not in self._allocation_units:
            self._allocation_units[allocation_id] = self.ledger.get_allocation(allocation_id).unit
        return self._allocation_units[allocation_id]


class _Abandon(Exception):
    """Raised inside the batch so that it writes nothing."""


def import_csv(ledger: FundLedger, actor: Actor, data: bytes, *, filename: str = "",
               kind: ImportKind | None = None, idempotency_key: str | None = None,
               records: ImportLog | None = None,
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
                        errors.append(RowError(row.line, error.code, error.detail, error.column,
                                               error.detail_zh))
                except LedgerError as error:
                    bad_rows += 1
                    if len(errors) < ERRORS_LISTED_MAX:
                        errors.append(RowError(row.line, error.code, error.detail,
                                               detail_zh=error.detail_zh))
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

