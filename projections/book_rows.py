"""The rows the API reads from the books' views: a school's balances by fund, a fund's
balance, a school, an allocation, an expenditure (field names are the HTTP contract's,
DESIGN §6), and how each is made from a view row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields
from datetime import date
from functools import cache
from typing import Any, TypeVar

from projections.fund_codes import parse_shares


@dataclass(frozen=True)
class FundUnitBalance:
    fund: str
    unit: str
    allocated: int
    spent: int
    remaining: int
    allocations: int
    expenditures: int


@dataclass(frozen=True)
class SchoolBalances:
    school: str
    fiscal_year: int
    as_of: date | None
    position: int
    balances: list[FundUnitBalance]


@dataclass(frozen=True)
class FundBalance:
    fund: str
    name: str
    fiscal_year: int
    unit: str
    source: str
    category: str
    earmark: str
    status: str
    appropriated: int
    proposed: int
    allocated: int
    spent: int
    unallocated: int
    available: int
    version: int
    position: int
    carried_in: int = 0
    carried_forward: int = 0
    surplus_recovered: int = 0
    function_code: str | None = None
    doc_no: str = ""
    issuing_level: str | None = None
    received_on: str | None = None
    shares: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class SchoolRow:
    code: str
    name: str
    district: str
    level: str
    locale: str
    poverty_area: bool
    students: int
    status: str
    registered_on: date
    closed_on: date | None
    version: int
    position: int


@dataclass(frozen=True)
class AllocationRow:
    id: str
    status: str
    fund: str
    school: str
    fiscal_year: int
    unit: str
    category: str
    purpose: str
    origin: str
    amount: int
    allocated: int
    spent: int
    remaining: int
    effective_date: date
    proposed_by: str
    approved_by: str | None
    approved_on: date | None
    version: int
    position: int


@dataclass(frozen=True)
class ExpenditureRow:
    id: str
    allocation: str
    fund: str
    school: str
    fiscal_year: int
    unit: str
    amount: int
    payee: str
    voucher: str
    spent_on: date
    description: str
    economic_class: str
    status: str
    recorded_by: str
    reversed_on: date | None
    version: int
    position: int


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


# A view names its columns as the books do; the contract names a few fields otherwise (its
# `id` or `code` is the row's own key column). Every other field reads the column of its own
# name, a date field parsed from its ISO text; a field with a default whose column the view
# lacks keeps its default (a fund's year-end figures come from the carry-over view).
_COLUMN_OF = {"fund": "fund_code", "school": "school_code", "allocation": "allocation_id"}
_READ: dict[str, Callable[[Any], Any]] = {"date": date.fromisoformat, "date | None": _day,
                                          "bool": bool}
T = TypeVar("T")


@cache
def _columns(kind: type, key_column: str) -> tuple[tuple[str, str, Callable[[Any], Any] | None, bool], ...]:
    renamed = {**_COLUMN_OF, "id": key_column, "code": key_column}
    return tuple((f.name, renamed.get(f.name, f.name), _READ.get(str(f.type)),
                  f.default is not MISSING) for f in fields(kind))


def _made(kind: type[T], row: dict[str, Any], key_column: str, **computed: Any) -> T:
    values = dict(computed)
    for name, column, read, optional in _columns(kind, key_column):
        if name in values or (optional and column not in row):
            continue
        values[name] = row[column] if read is None else read(row[column])
    return kind(**values)


def _fund_balance(row: dict[str, Any]) -> FundBalance:
    unallocated = row["appropriated"] - row["allocated"]
    return _made(FundBalance, row, "fund_code", unallocated=unallocated, available=unallocated,
                 shares=tuple(parse_shares(row["shares"])))


def _school_row(row: dict[str, Any]) -> SchoolRow:
    return _made(SchoolRow, row, "school_code")


def _allocation_row(row: dict[str, Any]) -> AllocationRow:
    return _made(AllocationRow, row, "allocation_id", remaining=row["allocated"] - row["spent"])


def _expenditure_row(row: dict[str, Any]) -> ExpenditureRow:
    return _made(ExpenditureRow, row, "expenditure_id")
