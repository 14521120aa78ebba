"""The generated year's year-end, as a county finance office closes it (docs/year-end.md).

1. Next year's budget lines of basic expenditure (人员经费, 公用经费) are opened in January with
   their advance tranche (提前下达, a share of this year's appropriation): the 结转 of each of
   this year's basic funds goes to the line of the same purpose.
2. The year is closed in one all-or-nothing command: basic remainders carried over (结转),
   project remainders recovered as surplus (结余) to their source level.
3. Schools spend their carried money from January to April, as the ledger's own 上年结转
   line in the plan does: balances left idle would be an audit finding.

Nothing is dated after the ledger's today: with today inside January, fewer vouchers land.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from domain.clock import office_hours, recording_clock
from domain.dispositions import is_basic, is_money
from scripts.generator.office import APPROVER, CHECKER, OFFICER

if TYPE_CHECKING:
    from domain.allocation import Allocation
    from domain.ledger import FundLedger

CLOSED_ON_DAY = 5  # the year is closed on the first working days of January
ADVANCE_SHARE_PERMILLE = 300  # 提前下达: about a third of last year's line arrives in advance
SPEND_COMMANDS_PER_BATCH_MAX = 2_000
CARRIED_PAYEES = ("徐州市新华书店", "江苏省电力公司徐州供电分公司", "徐州文教用品有限公司",
                  "徐州市自来水公司", "中国电信徐州分公司")
CARRIED_CLASSES = {"public_operating": "teaching", "personnel": "salaries"}


@dataclass
class YearEndSummary:
    fiscal_year: int
    funds_closed: int
    next_year_funds: int
    allocations_closed: int
    carried_forward_minor: int
    surplus_recovered_minor: int
    carried_vouchers: int
    close_seconds: float

    def lines(self) -> list[str]:
        from domain.units import money_text  # noqa: PLC0415

        return [
            f"year-end {self.fiscal_year}: {self.funds_closed} funds closed, "
            f"{self.allocations_closed} allocations in {self.close_seconds:.1f} s; "
            f"结转 {money_text(self.carried_forward_minor, 'CNY', 'zh')} into "
            f"{self.next_year_funds} funds of {self.fiscal_year + 1}, "
            f"结余 {money_text(self.surplus_recovered_minor, 'CNY', 'zh')} recovered",
            f"carried money spent in {self.carried_vouchers} vouchers of {self.fiscal_year + 1}",
        ]


def open_next_year(ledger: FundLedger, fiscal_year: int, fund_codes: list[str]) -> list[str]:
    """Next year's basic lines, one per basic money fund of this year, same purpose."""
    opened = []
    day = date(fiscal_year + 1, 1, 2)
    for code in sorted(fund_codes):
        fund = ledger.get_fund(code)
        if fund.closed or not is_money(fund.unit) or not is_basic(fund.category):
            continue
        next_code = code.replace(str(fiscal_year), str(fiscal_year + 1), 1)
        if next_code == code:
            next_code = f"{code}-{fiscal_year + 1}"
        amount = max(fund.appropriated * ADVANCE_SHARE_PERMILLE // 1_000, 1)
        ledger.open_fund(OFFICER, code=next_code,
                         name=fund.name.replace(str(fiscal_year), str(fiscal_year + 1), 1),
                         fiscal_year=fiscal_year + 1, unit=fund.unit, amount=amount,
                         source=fund.source, category=fund.category, earmark=fund.earmark,
                         levels=list(fund.levels),
                         expenditure_classes=list(fund.expenditure_classes),
                         effective_date=day, idempotency_key=f"year-end:open:{next_code}")
        opened.append(next_code)
    return opened


def release_ineligible_remainders(ledger: FundLedger, fiscal_year: int,
                                  fund_codes: list[str]) -> int:
    """A rural-support remainder of a school reclassified as urban during the year may neither
    be carried (the next year's line keeps the earmark) nor recovered as surplus (basic
    expenditure): the office cancels it back to the fund before the close, two-person like any
    move of approved money. Answers how many were released."""
    year_end = date(fiscal_year, 12, 31)
    next_day = date(fiscal_year + 1, 1, 1)
    released = 0
    for code in sorted(fund_codes):
        fund = ledger.get_fund(code)
        if fund.closed or fund.earmark != "rural_support":
            continue
        for allocation_id in list(fund.allocation_ids):
            allocation = ledger.get_allocation(allocation_id)
            if allocation.status != "approved" or allocation.remaining <= 0:
                continue
            school = ledger.get_school(allocation.school_code)
            if school.is_rural_support_eligible_on(next_day):
                continue
            made = ledger.cancel_allocation(
                OFFICER, allocation_id, effective_date=year_end,
                reason="学校已划为城区，乡村专项余额收回基金（不得结转）",
                idempotency_key=f"year-end:release:{allocation_id}")
            ledger.approve_change(APPROVER, made.subject.id,
                                  idempotency_key=f"year-end:release-approve:{allocation_id}")
            released += 1
    return released


def close_generated_year(ledger: FundLedger, fiscal_year: int, fund_codes: list[str], *,
                         seed: int = 20250101) -> YearEndSummary:
    import time  # noqa: PLC0415

    if ledger.today() < date(fiscal_year + 1, 1, 2):
        msg = f"fiscal year {fiscal_year} cannot be closed before {fiscal_year + 1} has begun"
        raise ValueError(msg)
    # The office does its year-end work in the first days of January.
    with recording_clock(office_hours(date(fiscal_year + 1, 1, CLOSED_ON_DAY))):
        next_year = open_next_year(ledger, fiscal_year, fund_codes)
        release_ineligible_remainders(ledger, fiscal_year, fund_codes)
        started = time.monotonic()
        made = ledger.close_year(APPROVER, fiscal_year, funds=fund_codes,
                                 next_year_funds=next_year,
                                 reason=f"{fiscal_year}年度决算：基本支出结转，项目结余收回",
                                 idempotency_key=f"year-end:close:{fiscal_year}")
        # The close moves approved money: a second approver applies it.
        outcome = ledger.approve_change(CHECKER, made.subject.id,
                                        idempotency_key=f"year-end:close-approve:{fiscal_year}")
        seconds = time.monotonic() - started
    funds_closed = outcome.subjects[1:]  # the change first, then what it changed
    carried = surplus = allocations = 0
    for fund in funds_closed:
        allocations += sum(1 for _ in fund.allocation_ids)
        for event in ledger.events.get(fund.id, gt=fund.version - 1):
            if type(event).__name__ == "YearEndClosed":
                carried += event.carried_forward
                surplus += event.surplus_recovered
    vouchers = spend_carried_money(ledger, fiscal_year + 1, next_year, random.Random(seed))
    return YearEndSummary(fiscal_year, len(funds_closed), len(next_year), allocations,
                          carried, surplus, vouchers, seconds)


def spend_carried_money(ledger: FundLedger, fiscal_year: int, fund_codes: list[str],
                        rng: random.Random) -> int:
    """Each carried allocation is spent in two or three vouchers between January and April."""
    last_day = min(ledger.today(), date(fiscal_year, 4, 30))
    first_day = date(fiscal_year, 1, 5)
    if last_day < first_day:
        return 0
    span = (last_day - first_day).days
    items = []
    for code in fund_codes:
        fund = ledger.get_fund(code)
        for allocation_id in fund.allocation_ids:
            allocation = ledger.get_allocation(allocation_id)
            if allocation.origin != "carry_over" or allocation.remaining <= 0:
                continue
            parts = rng.randint(2, 3) if allocation.remaining >= 300 else 1
            amounts = [allocation.remaining // parts] * parts
            amounts[-1] += allocation.remaining - sum(amounts)
            days = sorted(first_day + timedelta(days=rng.randint(0, span)) for _ in amounts)
            items.extend((allocation, amount, day) for amount, day in zip(amounts, days, strict=True))
    items.sort(key=lambda item: item[2])  # recorded day by day, as the schools spend
    written = 0
    for start in range(0, len(items), SPEND_COMMANDS_PER_BATCH_MAX):
        with ledger.batch():
            for allocation, amount, day in items[start:start + SPEND_COMMANDS_PER_BATCH_MAX]:
                written += 1
                with recording_clock(office_hours(day)):
                    _record_carried(ledger, allocation, amount, day, rng, fiscal_year, written)
    return written


def _record_carried(ledger: FundLedger, allocation: Allocation, amount: int, day: date,
                    rng: random.Random, fiscal_year: int, written: int) -> None:
    ledger.record_expenditure(
        OFFICER, allocation=allocation.id, amount=amount,
        payee=rng.choice(CARRIED_PAYEES), voucher=f"JZ{fiscal_year}-{written:06d}",
        spent_on=day, description="上年结转资金支出",
        economic_class=CARRIED_CLASSES.get(allocation.category),
        idempotency_key=f"year-end:spend:{fiscal_year}:{written}")
