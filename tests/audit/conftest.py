"""A small bureau on a real store, its journal kept by the view runner's page protocol, and
the raw SQL a forger would use on the library's events table."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest

from api.settings import Settings
from domain.ledger import FundLedger
from projections.database import ViewDatabase
from projections.journal import JournalView, events_table_name
from projections.page_view import PageEvent
from tests.conftest import APPROVER, OFFICER, TODAY

SCHOOLS = (  # code, district, level, locale, students
    ("XZ-GL-0001", "鼓楼区", "primary", "urban", 900),
    ("XZ-PZ-0002", "邳州市", "primary", "rural", 120),
    ("XZ-PZ-0003", "邳州市", "junior", "town", 450),
)


def build_small_bureau(ledger: FundLedger, year: int = 2025) -> list[UUID]:
    """Schools, two funds, approved allocations and a few expenditures; returns allocation ids."""
    for code, district, level, locale, students in SCHOOLS:
        ledger.register_school(OFFICER, code=code, name=f"学校 {code}", district=district,
                               level=level, locale=locale, poverty_area=False, students=students,
                               effective_date=date(year, 1, 2))
    ledger.open_fund(OFFICER, code=f"PO-{year}", name="生均公用经费", fiscal_year=year, unit="CNY",
                     amount=50_000_000, source="provincial", category="public_operating",
                     function_code="2050202", doc_no=f"苏财教〔{year}〕31号",
                     shares=[{"source": "central", "amount": 25_000_000},
                             {"source": "provincial", "amount": 15_000_000},
                             {"source": "county", "amount": 10_000_000}],
                     effective_date=date(year, 1, 3))
    ledger.open_fund(OFFICER, code=f"RS-{year}", name="乡村学校专项", fiscal_year=year, unit="CNY",
                     amount=20_000_000, source="central", category="facilities",
                     earmark="rural_support", effective_date=date(year, 1, 3))
    allocations = []
    for index, (code, *_rest) in enumerate(SCHOOLS):
        outcome = ledger.propose_allocation(OFFICER, fund=f"PO-{year}", school=code,
                                            amount=1_000_000 * (index + 1), purpose="公用经费",
                                            effective_date=date(year, 2, 1))
        ledger.approve_allocation(APPROVER, outcome.subject.id, effective_date=date(year, 2, 3))
        allocations.append(outcome.subject.id)
    rural = ledger.propose_allocation(OFFICER, fund=f"RS-{year}", school="XZ-PZ-0002",
                                      amount=3_000_000, purpose="校舍维修",
                                      effective_date=date(year, 3, 1))
    ledger.approve_allocation(APPROVER, rural.subject.id, effective_date=date(year, 3, 2))
    allocations.append(rural.subject.id)
    for month in (3, 6, 9):
        for index, allocation in enumerate(allocations):
            ledger.record_expenditure(OFFICER, allocation=allocation, amount=10_000 * (index + month),
                                      payee="供应商", voucher=f"V{month:02d}{index:03d}",
                                      spent_on=date(year, month, 10), description="办公用品")
    return allocations


def catch_up_journal(db: ViewDatabase, ledger: FundLedger, page_size: int = 7) -> int:
    """Applies the log to the journal the way the runner does: a page per transaction."""
    view = JournalView()
    with db.transaction():
        view.create_tables(db)
    applied = 0
    position = int(db.scalar("SELECT MAX(position) FROM audit_journal") or 0)
    while True:
        notifications = ledger.recorder.select_notifications(start=position + 1, limit=page_size)
        if not notifications:
            return applied
        page = [PageEvent(n.id, ledger.mapper.to_domain_event(n), n) for n in notifications]
        with db.transaction():
            view.apply_page(db, page)
        position = page[-1].position
        applied += len(page)


@dataclass
class AuditedStore:
    settings: Settings
    ledger: FundLedger
    db: ViewDatabase
    allocations: list[UUID]

    @property
    def table(self) -> str:
        return events_table_name(self.db)

    @property
    def id_column(self) -> str:
        return "notification_id" if self.db.is_postgres else "rowid"

    def catch_up(self) -> int:
        return catch_up_journal(self.db, self.ledger)

    def position_of(self, event: str, nth: int = 0) -> int:
        rows = self.db.rows("SELECT position FROM audit_journal WHERE event = ? ORDER BY position",
                            (event,))
        return int(rows[nth][0])

    def stored_row(self, position: int) -> tuple[Any, ...]:
        return self.db.rows(f"SELECT originator_id, originator_version, topic, state FROM {self.table} "
                            f"WHERE {self.id_column} = ?", (position,))[0]

    # ---- what a forger with SQL access could do

    def flip_byte(self, position: int, offset: int = 10) -> None:
        state = bytearray(self.stored_row(position)[3])
        state[offset] ^= 0x01
        with self.db.transaction():
            self.db.execute(f"UPDATE {self.table} SET state = ? WHERE {self.id_column} = ?",
                            (bytes(state), position))

    def delete(self, position: int) -> None:
        with self.db.transaction():
            self.db.execute(f"DELETE FROM {self.table} WHERE {self.id_column} = ?", (position,))

    def insert_forged(self, position: int, copy_of: int, shift: bool = True) -> None:
        """Puts a copy of one event, under a new originator id, at `position`; later events
        move up one place unless the position is a free gap."""
        _original_id, version, topic, state = self.stored_row(copy_of)
        forged_id: Any = uuid4().hex if not self.db.is_postgres else uuid4()
        with self.db.transaction():
            if shift:
                far = 1_000_000_000
                self.db.execute(f"UPDATE {self.table} SET {self.id_column} = {self.id_column} + ? "
                                f"WHERE {self.id_column} >= ?", (far, position))
                self.db.execute(f"UPDATE {self.table} SET {self.id_column} = {self.id_column} - ? "
                                f"WHERE {self.id_column} >= ?", (far - 1, far))
            self.db.execute(f"INSERT INTO {self.table} ({self.id_column}, originator_id, "
                            "originator_version, topic, state) VALUES (?, ?, ?, ?, ?)",
                            (position, forged_id, version, topic, state))


@pytest.fixture
def audited(store_settings: Settings) -> Iterator[AuditedStore]:
    ledger = FundLedger(env=store_settings.eventsourcing_env(), clock=lambda: TODAY)
    db = ViewDatabase.open(store_settings)
    allocations = build_small_bureau(ledger)
    store = AuditedStore(store_settings, ledger, db, allocations)
    store.catch_up()
    yield store
    db.close()
    ledger.close()


@pytest.fixture
def sqlite_audited(sqlite_settings: Settings) -> Iterator[AuditedStore]:
    """The small bureau on SQLite only, with the views and journal kept by the real runner."""
    from projections.runner import ViewRunner  # noqa: PLC0415

    ledger = FundLedger(env=sqlite_settings.eventsourcing_env(), clock=lambda: TODAY)
    allocations = build_small_bureau(ledger)
    with ViewRunner(sqlite_settings, ledger=ledger) as runner:
        runner.run_until_caught_up()
    db = ViewDatabase.open(sqlite_settings)
    yield AuditedStore(sqlite_settings, ledger, db, allocations)
    db.close()
    ledger.close()
