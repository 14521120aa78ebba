"""A small bureau to import into: rural and urban schools, an ordinary fund and a
rural-support fund, and approved allocations to spend from."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from uuid import UUID

import pytest

from domain.ledger import FundLedger
from projections.database import ViewDatabase
from projections.import_records import ImportRecords
from tests.api.conftest import api  # noqa: F401  (the HTTP client, for test_api.py)
from tests.conftest import APPROVER, OFFICER

SCHOOLS = {"XZ-PX-0001": "rural", "XZ-PX-0002": "town", "XZ-GL-0001": "urban"}


@dataclass
class Bureau:
    ledger: FundLedger
    allocations: dict[str, UUID]  # school code → its approved allocation of PUB-2025


def build_bureau(ledger: FundLedger, schools: int = 0, amount: int = 1_000_000_00) -> Bureau:
    """The three named schools, plus `schools` more rural ones, each with an approved
    allocation of `amount` fen from PUB-2025."""
    codes = dict(SCHOOLS) | {f"XZ-PX-{i:04d}": "rural" for i in range(100, 100 + schools)}
    with ledger.batch():
        for code, locale in codes.items():
            ledger.register_school(OFFICER, code=code, name=f"{code}学校", district="Pei",
                                   level="primary", locale=locale, poverty_area=False,
                                   students=400, effective_date=date(2025, 1, 1))
        ledger.open_fund(OFFICER, code="PUB-2025", name="生均公用经费", fiscal_year=2025,
                         unit="CNY", amount=amount * (len(codes) + 10), source="county",
                         category="public_operating", effective_date=date(2025, 1, 2))
        ledger.open_fund(OFFICER, code="RURAL-2025", name="乡村学校补助", fiscal_year=2025,
                         unit="CNY", amount=500_000_00, source="provincial",
                         category="public_operating", earmark="rural_support",
                         effective_date=date(2025, 1, 2))
        proposals = {code: ledger.propose_allocation(
            OFFICER, fund="PUB-2025", school=code, amount=amount, purpose="公用经费",
            effective_date=date(2025, 2, 1)).subject.id for code in codes}
    with ledger.batch():
        for allocation_id in proposals.values():
            ledger.approve_allocation(APPROVER, allocation_id, effective_date=date(2025, 2, 3))
    return Bureau(ledger, proposals)


@pytest.fixture
def bureau(ledger: FundLedger) -> Bureau:
    return build_bureau(ledger)


@pytest.fixture
def records() -> Iterator[ImportRecords]:
    found = ImportRecords(ViewDatabase.in_memory())
    yield found
    found.close()


def csv_bytes(*lines: str, encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)
