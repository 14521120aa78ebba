"""A small, clean bureau for the findings tests: every rule finds nothing in it until a test
adds the one anomaly it is about.

Gulou (urban): three primary schools funded at ¥800 per pupil. Pizhou (rural): a 60-pupil
primary school funded at the small-school floor (100 pupils × ¥800) and a junior school at
¥1,000 per pupil. Public operating money arrives on 2 January, is approved on 15 January,
and each school spends 6% on training in March, 40% in June and 30% in October.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

import pytest

from domain.clock import office_hours, recording_clock
from domain.ledger import FundLedger
from projections.database import ViewDatabase
from projections.findings.facts import catch_up
from projections.findings.registry import rule_named, run_findings
from projections.findings.rule import Finding, Scope
from tests.conftest import APPROVER, OFFICER

SCHOOLS = {  # code: (district, level, locale, students, fen per pupil)
    "GL-P1": ("Gulou", "primary", "urban", 1000, 80_000),
    "GL-P2": ("Gulou", "primary", "urban", 900, 80_000),
    "GL-P3": ("Gulou", "primary", "urban", 700, 80_000),
    "PZ-P1": ("Pizhou", "primary", "rural", 60, 80_000),
    "PZ-J1": ("Pizhou", "junior", "rural", 500, 100_000),
}
SMALL_SCHOOL_FLOOR = 100
YEAR = 2025


@dataclass
class Bureau:
    ledger: FundLedger
    allocations: dict[str, UUID] = field(default_factory=dict)
    vouchers: dict[str, int] = field(default_factory=dict)
    session: ViewDatabase = field(default_factory=ViewDatabase.in_memory)

    def voucher(self, school: str) -> str:
        self.vouchers[school] = self.vouchers.get(school, 0) + 1
        return f"{school}-{self.vouchers[school]:04d}"

    def open_fund(self, code: str, category: str, day: date, amount: int = 10**12, year: int = YEAR,
                  source: str = "provincial", received_on: date | None = None) -> int:
        """A provincial transfer by default (a special one passes on within 60 days)."""
        self.ledger.open_fund(
            OFFICER,
            code=code,
            name=code,
            fiscal_year=year,
            unit="CNY",
            amount=amount,
            source=source,
            category=category,
            received_on=received_on,
            effective_date=day,
        )
        return int(self.position_of("SELECT position FROM findings_funds WHERE fund_code = ?", code))

    def position_of(self, query: str, key: object) -> int:
        """The position of one event, read back from the facts (commands report their last)."""
        ((position,),) = self.facts().rows(query, (str(key),))
        return int(position)

    def allocate(
        self, fund: str, school: str, amount: int, proposed: date, approved: date | None
    ) -> tuple[UUID, list[int]]:
        outcome = self.ledger.propose_allocation(
            OFFICER, fund=fund, school=school, amount=amount, purpose="test", effective_date=proposed
        )
        query = "SELECT {} FROM findings_allocations WHERE allocation_id = ?"
        positions = [self.position_of(query.format("proposed_position"), outcome.subject.id)]
        if approved is not None:
            self.ledger.approve_allocation(APPROVER, outcome.subject.id, effective_date=approved)
            positions.append(self.position_of(query.format("decided_position"), outcome.subject.id))
        return outcome.subject.id, positions

    def spend(
        self,
        allocation: UUID,
        amount: int,
        day: date,
        *,
        payee: str = "徐州教学用品公司",
        voucher: str | None = None,
        economic_class: str | None = None,
    ) -> tuple[UUID, int]:
        school = self.ledger.get_allocation(allocation).school_code
        outcome = self.ledger.record_expenditure(
            OFFICER,
            allocation=allocation,
            amount=amount,
            payee=payee,
            voucher=voucher or self.voucher(school),
            spent_on=day,
            economic_class=economic_class,
        )
        query = "SELECT position FROM findings_expenditures WHERE expenditure_id = ?"
        return outcome.subject.id, self.position_of(query, outcome.subject.id)

    def facts(self) -> ViewDatabase:
        """The audit-facts view, caught up with everything written so far."""
        catch_up(self.session, self.ledger)
        return self.session

    def findings(
        self, rule: str, as_of: date | None = None, position_max: int | None = None, **params: Any
    ) -> list[Finding]:
        return rule_named(rule).run(self.facts(), Scope.year_end(YEAR, as_of, position_max), params)

    def all_findings(self, as_of: date | None = None) -> list[Finding]:
        return run_findings(self.facts(), Scope.year_end(YEAR, as_of))


def build_bureau(ledger: FundLedger) -> Bureau:
    bureau = Bureau(ledger)
    for code, (district, level, locale, students, _) in SCHOOLS.items():
        ledger.register_school(
            OFFICER,
            code=code,
            name=code,
            district=district,
            level=level,
            locale=locale,
            poverty_area=False,
            students=students,
            effective_date=date(YEAR, 1, 1),
        )
    bureau.open_fund("PO-2025", "public_operating", date(YEAR, 1, 2))
    for code, (_, _, _, students, rate) in SCHOOLS.items():
        budget = rate * max(students, SMALL_SCHOOL_FLOOR)
        allocation, _ = bureau.allocate("PO-2025", code, budget, date(YEAR, 1, 10), date(YEAR, 1, 15))
        bureau.allocations[code] = allocation
        # Odd fen keep every payment away from round sums and from the procurement threshold.
        bureau.spend(allocation, budget * 6 // 100 + 13, date(YEAR, 3, 10), economic_class="training")
        bureau.spend(allocation, budget * 40 // 100 + 7, date(YEAR, 6, 10))
        bureau.spend(allocation, budget * 30 // 100 + 3, date(YEAR, 10, 10))
    return bureau


@pytest.fixture(autouse=True)
def _recorded_on_time() -> Iterator[None]:
    """The books of these tests are recorded no later than their business dates (at the
    year's first office hour), as a bureau keeping up with its work records them: the real
    clock is a year past them, and every entry would be backdated. Only a test about
    backdating records late, inside its own recording clock."""
    with recording_clock(office_hours(date(YEAR, 1, 1))):
        yield


@pytest.fixture
def bureau(ledger: FundLedger) -> Iterator[Bureau]:
    built = build_bureau(ledger)
    yield built
    built.session.close()
