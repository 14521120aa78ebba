"""Schools' spending through the year: how much each month, on which days, to whom, under
which economic class and voucher number (reference/domain.md §(c), "Seasonality").

The monthly shares are of the whole year's non-salary spending, so they are fitted across
all allocations at once (iterative proportional fitting): each allocation spends only from
its approval on, and the months it can reach take up what the others cannot. Within a month
only working days carry postings, and the last five carry about 35%. Amounts are integer
fen; floats only weigh shares and are rounded (largest remainder) before they become money.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from scripts.generator import working_days as wd
from scripts.generator.payees import Payees
from scripts.generator.plan import Command, Ref, SpendItem
from scripts.generator.schools import SchoolPlan

MONTH_SHARE_PERCENT = (3, 3, 9, 8, 8, 8, 5, 6, 11, 8, 9, 22)
MONTH_END_WORKING_DAYS = 5
MONTH_END_SHARE_PERCENT = 35
REVERSAL_PERCENT = 1.0
FITTING_ROUNDS = 60
ROUND_SUM_FEN = 1_000_000  # ¥10,000: whole multiples look like estimates, not invoices
PROCUREMENT_BAND_FEN = (9_000_000, 10_000_000)  # just under the ¥100,000 threshold
PART_FEN_MIN = 5_000  # no voucher under ¥50 except a remainder

# Everyday classes of public operating spending and their weights (inference from the
# scope of 财教〔2006〕5号: teaching, utilities and office costs lead).
OPERATING_WEIGHTS = {"teaching": 25, "office": 15, "utilities": 18, "repairs": 10, "service_fees": 8,
                     "books": 6, "printing": 5, "post_telecom": 4, "travel": 4, "equipment": 5}
HEATING_MONTHS = (1, 2, 3, 11, 12)
_DESCRIPTIONS = {
    "teaching": ("教学实验耗材", "体育器材采购", "文体活动用品", "教学资料"),
    "office": ("办公用品采购", "办公耗材"), "utilities": ("{m}月电费", "{m}月水费"),
    "repairs": ("校舍零星维修", "门窗维修", "水电线路维修"), "service_fees": ("保洁保安服务费",),
    "books": ("图书采购", "教辅资料"), "printing": ("试卷印刷", "材料印刷"),
    "post_telecom": ("{m}月宽带及电话费",), "travel": ("外出教研差旅", "交通费"),
    "equipment": ("教学设备购置", "多媒体设备"), "training": ("教师培训费",),
    "construction": ("工程进度款",), "heating": ("{m}月取暖费",), "student_aid": ("学生生活补助发放",),
    "salaries": ("{m}月乡村教师生活补助",), "staffing": ("新教师到岗",),
}


@dataclass
class Payment:
    item: SpendItem
    day: date
    amount: int
    economic_class: str
    payee: str
    serial: int = 0


class SpendingPlanner:
    def __init__(self, year: int, horizon: date, schools: dict[str, SchoolPlan],
                 payees: Payees, rng: random.Random, *, per_school_month: float,
                 heating: bool) -> None:
        self.year = year
        self.horizon = horizon
        self.schools = schools
        self.payees = payees
        self.rng = rng
        self.per_school_month = per_school_month
        self.heating = heating

    def plan(self, items: list[SpendItem]) -> list[Command]:
        training = {index: self._training_months(item) for index, item in enumerate(items)
                    if item.training_minor > 0}
        training_by_month: dict[int, int] = defaultdict(int)
        for months in training.values():
            for month, amount in months.items():
                training_by_month[month] += amount
        weights = fit_months(items, training_by_month)
        counts = self._voucher_counts(items)
        payments: list[Payment] = []
        for index, item in enumerate(items):
            payments.extend(self._scheduled(item))
            for month, amount in training.get(index, {}).items():
                payments.extend(self._parts(item, month, amount, 1, economic_class="training"))
            if item.flexible_minor <= 0 and item.training_minor <= 0:
                continue
            window = weights[_group(item)]
            months = self._placeable(item, _apportion(item.flexible_minor, window))
            if item.payments_max:
                payments.extend(self._progress_payments(item, months))
            else:
                share = counts.get(item.school, 1.0)
                for month, amount in months.items():
                    if amount > 0:
                        parts = max(1, round(share * amount))
                        payments.extend(self._parts(item, month, amount, parts))
        return self._commands(payments)

    # ----------------------------------------------------------- how many

    def _voucher_counts(self, items: list[SpendItem]) -> dict[str, float]:
        """Vouchers per fen of each school's flexible money: bigger schools post more, as
        √budget, averaging `per_school_month` a month over the schools that spend."""
        budget: dict[str, int] = defaultdict(int)
        for item in items:
            if not item.payments_max:
                budget[item.school] += item.flexible_minor
        roots = {school: math.sqrt(b) for school, b in budget.items() if b > 0}
        if not roots:
            return {}
        total = self.per_school_month * 12 * len(roots)
        scale = total / sum(roots.values())
        return {school: scale * root / budget[school] for school, root in roots.items()}

    # ----------------------------------------------------------- payments

    def _scheduled(self, item: SpendItem) -> list[Payment]:
        payments = []
        for day, amount, economic_class, payee in item.scheduled:
            if day > self.horizon or amount <= 0:
                continue
            pieces = _without_round_sums([amount], self.rng) if item.unit == "CNY" else [amount]
            payments.extend(Payment(item, day, piece, economic_class, payee) for piece in pieces)
        return payments

    def _progress_payments(self, item: SpendItem, months: dict[int, int]) -> list[Payment]:
        """A project pays a few progress payments: the months with the most money, merged."""
        chosen = sorted(sorted(months, key=lambda m: months[m], reverse=True)[: item.payments_max])
        payments: list[Payment] = []
        carried = 0
        for month in sorted(months):
            carried += months[month]
            if month in chosen and carried > 0:
                payments.extend(self._parts(item, month, carried, 1))
                carried = 0
        if carried > 0 and chosen:
            payments.extend(self._parts(item, chosen[-1], carried, 1))
        return payments

    def _training_months(self, item: SpendItem) -> dict[int, int]:
        """The 5%+ training share: summer and autumn courses, in one to three payments."""
        window = range(item.start.month, item.end_month + 1)
        preferred = [m for m in (7, 8, 11, 4, 10, 3, 2, 1, 12) if m in window and self._days(item, m)]
        months = preferred[: self.rng.randint(1, 3)]
        if not months:
            return {}
        return _apportion(item.training_minor, dict.fromkeys(months, 1.0))

    def _parts(self, item: SpendItem, month: int, amount: int, parts: int, *,
               economic_class: str | None = None) -> list[Payment]:
        days = self._days(item, month)
        if not days:
            return []
        parts = max(1, min(parts, amount // PART_FEN_MIN))
        draws = {n: self.rng.lognormvariate(0, 0.8) for n in range(parts)}
        pieces = _without_round_sums([a for a in _apportion(amount, draws).values() if a > 0], self.rng)
        school = self.schools[item.school]
        if item.family == "project" and month == 12:
            # Works are settled before the year-end rush, not in its last days.
            days = [d for d in days if d.day <= 19] or days[:1]
        late = days[-MONTH_END_WORKING_DAYS:]
        early = days[:-MONTH_END_WORKING_DAYS] or late
        payments = []
        for piece in pieces:
            klass = economic_class or self._class(item, month)
            day = self.rng.choice(late if self.rng.random() * 100 < MONTH_END_SHARE_PERCENT else early)
            payee = self.payees.payee(school.code, school.area_name, klass, month)
            payments.append(Payment(item, day, piece, klass, payee))
        return payments

    def _placeable(self, item: SpendItem, months: dict[int, int]) -> dict[int, int]:
        """Moves money of months with no working day left (after approval, before the
        horizon) to the next month that has one, or back to the last one that had."""
        placed: dict[int, int] = {}
        carried = 0
        for month in sorted(months):
            carried += months[month]
            if self._days(item, month):
                placed[month] = carried
                carried = 0
        if carried and placed:
            placed[max(placed)] += carried
        return placed

    def _days(self, item: SpendItem, month: int) -> list[date]:
        return [d for d in wd.working_days_of_month(self.year, month)
                if item.start <= d <= self.horizon]

    def _class(self, item: SpendItem, month: int) -> str:
        if item.family == "training":
            return "training" if self.rng.random() < 0.85 else "travel"
        if item.family == "project":
            return item.classes[0] if self.rng.random() < 0.8 else item.classes[1]
        weights = dict(OPERATING_WEIGHTS)
        if self.heating and month in HEATING_MONTHS:
            weights["heating"] = 12
        return self.rng.choices(list(weights), list(weights.values()))[0]

    # ----------------------------------------------------------- commands

    def _commands(self, payments: list[Payment]) -> list[Command]:
        """Numbers each school's vouchers in date order, and turns about 1% of everyday
        vouchers into a mistaken entry, its reversal and the corrected entry."""
        by_school: dict[str, list[Payment]] = defaultdict(list)
        for serial, payment in enumerate(payments):
            payment.serial = serial
            by_school[payment.item.school].append(payment)
        commands: list[Command] = []
        for school, own in sorted(by_school.items()):
            own.sort(key=lambda p: (p.day, p.serial))
            for number, payment in enumerate(own, start=1):
                voucher = f"{school}-{self.year}-{number:05d}"
                key = f"expenditure:{voucher}"
                args = {"allocation": Ref(payment.item.allocation), "amount": payment.amount,
                        "payee": payment.payee, "voucher": voucher, "spent_on": payment.day,
                        "description": self._description(payment), "unit": payment.item.unit,
                        "economic_class": payment.economic_class}
                reverse_on = wd.add_working_days(payment.day, self.rng.randint(0, 2))
                mistaken = (payment.item.unit == "CNY" and payment.amount >= 20_000
                            and payment.item.family in ("operating", "training")
                            and reverse_on <= self.horizon and reverse_on.year == self.year
                            and self.rng.random() * 100 < REVERSAL_PERCENT)
                if mistaken:
                    # 少录一位: the clerk dropped a digit; less than the voucher, so always affordable.
                    commands.append(Command(payment.day, "record_expenditure",
                                            {**args, "amount": payment.amount // 10}, key=key,
                                            school=school))
                    commands.append(Command(reverse_on, "reverse_expenditure", {
                        "expenditure_id": Ref(key), "effective_date": reverse_on,
                        "reason": "金额录入错误（少录一位），冲销后按原始凭证重新入账"}, school=school))
                    commands.append(Command(reverse_on, "record_correction", args,
                                            key=f"{key}:corrected", school=school))
                else:
                    commands.append(Command(payment.day, "record_expenditure", args, key=key,
                                            school=school))
        return commands

    def _description(self, payment: Payment) -> str:
        templates = _DESCRIPTIONS.get(payment.economic_class, ("{c}",))
        return self.rng.choice(templates).format(m=payment.day.month, c=payment.economic_class)


def _group(item: SpendItem) -> tuple[str, int, int]:
    return (item.family, item.start.month, item.end_month)


def fit_months(items: list[SpendItem], training_by_month: dict[int, int],
               ) -> dict[tuple[str, int, int], dict[int, float]]:
    """Monthly weights per group of allocations (same kind, same first and last month) whose
    sum over all money meets MONTH_SHARE_PERCENT as closely as the windows allow; money
    with its own schedule counts towards the months it falls in."""
    budget: dict[tuple[str, int, int], float] = defaultdict(float)
    fixed = {m: float(training_by_month.get(m, 0)) for m in range(1, 13)}
    for item in items:
        if item.unit != "CNY":
            continue
        budget[_group(item)] += item.flexible_minor
        for day, amount, economic_class, _ in item.scheduled:
            if economic_class != "salaries":  # the shares are of non-salary spending
                fixed[day.month] += amount
    grand = sum(budget.values()) + sum(fixed.values())
    target = {m: max(0.0, grand * MONTH_SHARE_PERCENT[m - 1] / 100 - fixed[m]) for m in range(1, 13)}
    cells = {g: {m: budget[g] * MONTH_SHARE_PERCENT[m - 1] for m in range(g[1], g[2] + 1)}
             for g in budget if budget[g] > 0}
    for _ in range(FITTING_ROUNDS):
        column: dict[int, float] = defaultdict(float)
        for row in cells.values():
            for m, x in row.items():
                column[m] += x
        for row in cells.values():
            for m in row:
                row[m] *= target[m] / column[m] if column[m] > 0 else 1.0
        for g, row in cells.items():
            total = sum(row.values())
            for m in row:
                row[m] = row[m] * budget[g] / total if total > 0 else budget[g] / len(row)
    weights = {g: {m: x / budget[g] for m, x in row.items()} for g, row in cells.items()}
    for item in items:  # resource units and empty groups: months weighed by the seasons alone
        g = _group(item)
        if g not in weights:
            weights[g] = {m: MONTH_SHARE_PERCENT[m - 1] / 100 for m in range(g[1], g[2] + 1)}
    return weights


def _apportion(amount: int, weights: dict[int, float]) -> dict[int, int]:
    """Integer shares of `amount` in proportion to `weights`, adding up exactly (largest remainder)."""
    total = sum(weights.values())
    if total <= 0:
        first = min(weights)
        return {k: (amount if k == first else 0) for k in weights}
    exact = {k: amount * w / total for k, w in weights.items()}
    shares = {k: int(x) for k, x in exact.items()}
    for k in sorted(exact, key=lambda k: exact[k] - shares[k], reverse=True)[: amount - sum(shares.values())]:
        shares[k] += 1
    assert sum(shares.values()) == amount
    return shares


def _without_round_sums(pieces: list[int], rng: random.Random) -> list[int]:
    """Keeps the total but leaves no whole multiple of ¥10,000 and nothing just under the
    ¥100,000 procurement threshold: those are audit patterns, kept for injected anomalies."""
    out: list[int] = []
    work = list(reversed(pieces))
    while work:
        piece = work.pop()
        if piece >= ROUND_SUM_FEN and piece % ROUND_SUM_FEN == 0:
            cut = rng.randint(1, 99) * 100 + rng.randint(1, 99)
            work.extend((cut, piece - cut))  # either part is checked again
        elif PROCUREMENT_BAND_FEN[0] <= piece < PROCUREMENT_BAND_FEN[1]:
            half = piece // 2 + rng.randint(1, 9_999)
            work.extend((piece - half, half))
        else:
            out.append(piece)
    assert sum(out) == sum(pieces)
    return out
