"""The rows the API reads from the books' views: a school's balances by fund, a fund's
balance, a school, an allocation, an expenditure (field names are the HTTP contract's,
DESIGN §6), and how each is made from a view row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

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


def _fund_balance(row: dict[str, Any]) -> FundBalance:
    unallocated = row["appropriated"] - row["allocated"]
    return FundBalance(
        fund=row["fund_code"], name=row["name"], fiscal_year=row["fiscal_year"],
        unit=row["unit"], source=row["source"], category=row["category"],
        earmark=row["earmark"], status=row["status"], appropriated=row["appropriated"],
        proposed=row["proposed"], allocated=row["allocated"], spent=row["spent"],
        unallocated=unallocated, available=unallocated, version=row["version"],
        position=row["position"], function_code=row["function_code"], doc_no=row["doc_no"],
        issuing_level=row["issuing_level"], received_on=row["received_on"],
        shares=tuple(parse_shares(row["shares"])))


def _school_row(row: dict[str, Any]) -> SchoolRow:
    return SchoolRow(
        code=row["school_code"], name=row["name"], district=row["district"],
        level=row["level"], locale=row["locale"], poverty_area=bool(row["poverty_area"]),
        students=row["students"], status=row["status"],
        registered_on=date.fromisoformat(row["registered_on"]),
        closed_on=_day(row["closed_on"]), version=row["version"], position=row["position"])


def _allocation_row(row: dict[str, Any]) -> AllocationRow:
    return AllocationRow(
        id=row["allocation_id"], status=row["status"], fund=row["fund_code"],
        school=row["school_code"], fiscal_year=row["fiscal_year"], unit=row["unit"],
        category=row["category"], purpose=row["purpose"], origin=row["origin"],
        amount=row["amount"], allocated=row["allocated"], spent=row["spent"],
        remaining=row["allocated"] - row["spent"],
        effective_date=date.fromisoformat(row["effective_date"]),
        proposed_by=row["proposed_by"], approved_by=row["approved_by"],
        approved_on=_day(row["approved_on"]), version=row["version"], position=row["position"])


def _expenditure_row(row: dict[str, Any]) -> ExpenditureRow:
    return ExpenditureRow(
        id=row["expenditure_id"], allocation=row["allocation_id"], fund=row["fund_code"],
        school=row["school_code"], fiscal_year=row["fiscal_year"], unit=row["unit"],
        amount=row["amount"], payee=row["payee"], voucher=row["voucher"],
        spent_on=date.fromisoformat(row["spent_on"]), description=row["description"],
        economic_class=row["economic_class"], status=row["status"],
        recorded_by=row["recorded_by"], reversed_on=_day(row["reversed_on"]),
        version=row["version"], position=row["position"])
