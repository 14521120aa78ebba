"""A generated fiscal year, built with the ledger's own commands: enough variety (back-dated
effective dates, reclassifications, enrolment reports, adjustments, transfers, cancellations,
reversals, a second unit) for replays as of many dates to have something to disagree about."""

from __future__ import annotations

import random
from datetime import date, timedelta

from domain.errors import LedgerError
from domain.ledger import FundLedger
from tests.conftest import APPROVER, OFFICER, OFFICER_2
from tests.factories import applied

DISTRICTS = ("鼓楼区", "铜山区", "邳州市", "睢宁县")
LOCALES = ("urban", "town", "rural")
LEVELS = ("primary", "junior")


def generate_year(ledger: FundLedger, year: int = 2025, schools: int = 16, seed: int = 7) -> None:
    rng = random.Random(seed)
    codes = []
    for index in range(schools):
        code = f"XZ-{index:04d}"
        codes.append(code)
        ledger.register_school(OFFICER, code=code, name=f"第{index}小学", district=DISTRICTS[index % 4],
                               level=LEVELS[index % 2], locale=LOCALES[index % 3],
                               poverty_area=index % 5 == 0, students=rng.randint(60, 1500),
                               effective_date=date(year - 1, 9, 1))
    funds = {
        f"PO-{year}": ("public_operating", "CNY", 10**10, "none"),
        f"RS-{year}": ("facilities", "CNY", 10**9, "rural_support"),
        f"TP-{year}": ("personnel", "TEACHER_POST", 500, "none"),
    }
    for code, (category, unit, amount, earmark) in funds.items():
        ledger.open_fund(OFFICER, code=code, name=code, fiscal_year=year, unit=unit, amount=amount,
                         source="municipal", category=category, earmark=earmark,
                         effective_date=date(year, 1, 2))
    approved = []
    day = date(year, 1, 5)
    while day < date(year, 12, 20):
        action = rng.random()
        try:
            if action < 0.3 or len(approved) < 4:
                fund = rng.choice(list(funds))
                school = rng.choice(codes)
                amount = rng.randint(1, 20) if fund.startswith("TP") else rng.randint(10_000, 5_000_000)
                proposer = rng.choice((OFFICER, OFFICER_2))
                outcome = ledger.propose_allocation(proposer, fund=fund, school=school, amount=amount,
                                                    purpose="用途", effective_date=day)
                if rng.random() < 0.85:
                    # Approved days later, sometimes back-dated to the proposal day.
                    when = day if rng.random() < 0.3 else day + timedelta(days=rng.randint(0, 20))
                    ledger.approve_allocation(APPROVER, outcome.subject.id, effective_date=min(
                        when, date(year, 12, 31)))
                    approved.append(outcome.subject.id)
            elif action < 0.7:
                allocation = ledger.get_allocation(rng.choice(approved))
                if allocation.remaining > 1 and allocation.approved_on <= day:
                    amount = rng.randint(1, max(1, allocation.remaining // 3))
                    outcome = ledger.record_expenditure(
                        OFFICER, allocation=allocation.id, amount=amount, payee="供应商",
                        voucher=f"V{rng.randint(0, 10**9)}", spent_on=day)
                    if rng.random() < 0.1:
                        ledger.reverse_expenditure(OFFICER, outcome.subject.id, reason="录入错误",
                                                   effective_date=day + timedelta(days=3))
            elif action < 0.78:
                allocation = ledger.get_allocation(rng.choice(approved))
                delta = rng.choice((-1, 1)) * max(1, allocation.remaining // 4)
                applied(ledger, ledger.adjust_allocation(
                    APPROVER, allocation.id, delta=delta, reason="调整", effective_date=day))
            elif action < 0.85:
                allocation = ledger.get_allocation(rng.choice(approved))
                if allocation.remaining > 2:
                    applied(ledger, ledger.transfer_allocation(
                        OFFICER, allocation.id, amount=allocation.remaining // 2,
                        to_school=rng.choice(codes), reason="调剂", effective_date=day))
            elif action < 0.88:
                applied(ledger, ledger.cancel_allocation(
                    OFFICER, rng.choice(approved), reason="项目取消", effective_date=day))
            elif action < 0.94:
                ledger.reclassify_school(OFFICER, rng.choice(codes), locale=rng.choice(LOCALES),
                                         reason="区划调整",
                                         effective_date=day - timedelta(days=rng.randint(0, 60)))
            else:
                ledger.report_enrolment(OFFICER, rng.choice(codes), students=rng.randint(60, 1500),
                                        effective_date=day)
        except LedgerError:
            pass  # a refused command writes nothing: the generator just moves on
        day += timedelta(days=rng.randint(0, 3))
