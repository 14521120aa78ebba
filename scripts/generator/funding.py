"""A fiscal year's funds and their allocations to schools (reference/domain.md §2.2, §(c)).

Each fund is opened when its money arrives (a second tranche arrives as an appropriation
increase), its allocations are proposed by the officer and approved by the approver within
the pass-through deadline, a few proposals are rejected and proposed again, project
allocations are adjusted to the tender price, and a little is held back as reserve so that
upward adjustments never over-allocate. Every amount is integer minor units.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from scripts.generator import provenance
from scripts.generator import working_days as wd
from scripts.generator.plan import Command, Ref, SpendItem
from scripts.generator.schools import COMPULSORY_LEVELS, SchoolPlan

YUAN = 100  # fen per yuan

# 生均公用经费 local rates, fen per pupil per year. Primary/junior are §(c)'s default local rate
# (above the ¥650/¥850 eastern floor); special education is above the ¥6,000 national rate;
# the other levels are inference.
OPERATING_RATE_FEN = {"primary": 80_000, "junior": 100_000, "nine_year": 90_000, "special": 700_000,
                      "kindergarten": 60_000, "senior": 120_000, "complete": 110_000,
                      "vocational": 150_000}
OPERATING_FLOOR_FEN = {"primary": 65_000, "junior": 85_000, "nine_year": 65_000, "special": 600_000}
SMALL_SCHOOL_FLOOR_STUDENTS = 100
# The document fixing the year's local standards (文号), as the generated bureau cites it.
STANDARD_DOCUMENT = "徐财教〔{year}〕8号"
RURAL_SUPPORT_FEN_PER_PUPIL = 15_000
RURAL_SUPPORT_SMALL_SCHOOL_FEN = 2_000_000  # schools under 200 pupils
AID_FEN_PER_SEMESTER = {"primary": 62_500, "junior": 75_000, "nine_year": 68_000, "special": 75_000}
AID_SHARE_PERMILLE = {"urban": (30, 40), "town": (40, 60), "rural": (60, 80)}
TRAINING_FEN_PER_TEACHER = 60_000
RURAL_TEACHER_SUBSIDY_FEN = (240_000, 600_000)  # per teacher per year, rising with remoteness
PROJECT_SHARE_PERCENT = 15  # of schools, each year (§(c): 10–20%)
PROJECT_FEN = (30_000_000, 500_000_000)  # ¥0.3m–¥5m
PROJECT_MEDIAN_FEN = 90_000_000
RESERVE_BASIS_POINTS = 100  # 1% of each fund held back for adjustments
PASS_THROUGH_MARGIN_DAYS = 2  # approvals stay this far inside the step's deadline (art. 52)
REJECTION_PERCENT = 1.5

OPERATING_FUNDS = {
    # code suffix: (name, levels, source)
    "YW-GYJF": ("城乡义务教育生均公用经费", ("primary", "junior", "nine_year", "special"), "provincial"),
    "XQ-GYJF": ("学前教育生均公用经费", ("kindergarten",), "county"),
    "GZ-GYJF": ("普通高中和中等职业教育生均公用经费", ("senior", "complete", "vocational"), "municipal"),
}
OPERATING_CLASSES = ("teaching", "office", "utilities", "repairs", "service_fees", "books",
                     "printing", "post_telecom", "travel", "equipment")


@dataclass
class FundPlan:
    code: str
    name: str
    category: str
    source: str
    opened_on: date
    unit: str = "CNY"
    earmark: str = "none"
    levels: tuple[str, ...] = ()
    tranches: list[tuple[date, int]] = field(default_factory=list)  # later receipts: day, delta
    allocated_minor: int = 0  # what its approved allocations and increases will reach
    tranche_allocated_minor: list[int] = field(default_factory=list)


class FundingPlanner:
    """Builds the year's fund and allocation commands, and what each allocation is to spend."""

    def __init__(self, year: int, schools: list[SchoolPlan], rng: random.Random,
                 heating: bool, *, first_year: bool = True) -> None:
        self.year = year
        # A following year's carried money is real (the close's 结转, year_end.py), not drawn.
        self.first_year = first_year
        self.schools = schools
        self.rng = rng
        self.heating = heating
        self.commands: list[Command] = []
        self.spending: list[SpendItem] = []
        self.funds: list[FundPlan] = []
        self.enrolment_after: dict[str, int] = {}
        self.reported_on: dict[str, date] = {}
        self._approvals: dict[str, date] = {}
        self._snapshots: dict[str, Command] = {}
        self._keys = 0

    # ------------------------------------------------------------ the year

    def plan(self) -> None:
        if self.first_year:
            self.carry_over()
        self.rural_teacher_subsidy()
        self.operating_funds()
        self.student_aid()
        self.teacher_training()
        self.projects()
        self.computers()
        self.rural_support()
        self.teacher_posts()
        self.reclassifications()
        for fund in self.funds:
            self._open(fund)

    def day(self, month: int, day: int) -> date:
        return wd.on_or_after(date(self.year, month, day))

    def operating_budget(self, school: SchoolPlan, students: int) -> int:
        """Half a year of 生均公用经费: rate × pupils (at least the small-school floor) / 2."""
        counted = max(students, SMALL_SCHOOL_FLOOR_STUDENTS)
        return OPERATING_RATE_FEN[school.level] * counted // 2

    # ------------------------------------------------------------- the funds

    def carry_over(self) -> None:
        """Last year's unspent operating balances (上年结转) keep schools running in January."""
        fund = self._fund("SNJZ", "上年结转生均公用经费", "public_operating", "county", self.day(1, 2))
        for school in self._operating_schools():
            if self.rng.random() >= 0.75:
                continue
            annual = 2 * self.operating_budget(school, school.students)
            amount = annual * self.rng.randint(600, 1_200) // 10_000 // YUAN * YUAN
            proposed = wd.between(self.rng, self.day(1, 3), self.day(1, 10))
            key = self._allocate(fund, school, amount, "上年结转公用经费下达", proposed)
            # Spent out by the end of April: balances left idle would be an audit finding.
            self._spend(key, school, "operating", self._approved_on(key), 4, amount, training=True,
                        use_permille=1_000)

    def operating_funds(self) -> None:
        """Per-student operating funds in two semester tranches, computed by the ledger from
        approved per-pupil standards and enrolment snapshots (docs/formula-funding.md): the
        spring half arrives in February and its tranche is proposed on the registered
        enrolment; the autumn half arrives in early September and its tranche follows the autumn
        enrolment reports in September."""
        spring_arrival = wd.between(self.rng, self.day(2, 10), self.day(2, 13))
        # Early September: a county's own kindergarten money must reach its schools within 15
        # days (预算法 art. 52), and the autumn tranche waits for September's enrolment.
        autumn_arrival = wd.between(self.rng, self.day(9, 1), self.day(9, 4))
        self._standards(self.day(1, 5))
        operating = self._operating_schools()
        spring_snapshot = self._snapshot(f"{self.year}年春季学期学籍", self.day(2, 16), operating)
        funds = []
        for suffix, (name, levels, source) in OPERATING_FUNDS.items():
            schools = [s for s in operating if s.level in levels]
            if not schools:
                continue
            fund = self._fund(suffix, name, "public_operating", source, spring_arrival,
                              levels=levels)
            funds.append((fund, schools))
            proposed = wd.between(self.rng, self.day(2, 17), self.day(3, 6))
            keys = self._tranche(fund, schools, "spring", spring_snapshot, proposed,
                                 {s.code: s.students for s in schools})
            for school in schools:
                amount = self.operating_budget(school, school.students)
                self._spend(keys[school.code], school, "operating", self._approved_on(keys[school.code]),
                            12, amount, training=True, use_permille=self.rng.randint(930, 990))
        enrolment = {s.code: self._report_enrolment(s) for s in operating}
        snapshot_day = wd.on_or_after(max(max(self.reported_on.values(), default=self.day(9, 8))
                                          + timedelta(days=1), self.day(9, 9)))
        autumn_snapshot = self._snapshot(f"{self.year}年秋季学期学籍", snapshot_day, operating)
        for fund, schools in funds:
            self._next_tranche(fund, autumn_arrival)
            proposed = wd.between(self.rng, snapshot_day, self.day(9, 24))
            keys = self._tranche(fund, schools, "autumn", autumn_snapshot, proposed, enrolment)
            for school in schools:
                key = keys[school.code]
                amount = self.operating_budget(school, enrolment[school.code])
                if self.rng.random() < 0.01:  # 核增: pupils admitted late in the term
                    delta = amount * self.rng.randint(3, 8) // 100 // YUAN * YUAN
                    on = wd.between(self.rng, self.day(11, 3), self.day(11, 20))
                    self._adjust(fund, key, delta, on, "秋季学期插班生核增生均公用经费", school)
                    amount += delta
                self._spend(key, school, "operating", self._approved_on(key), 12, amount,
                            training=True, use_permille=self.rng.randint(930, 990))

    def _standards(self, on: date) -> None:
        """The year's per-pupil standards, set by the officer and approved by the section chief."""
        for level, rate in OPERATING_RATE_FEN.items():
            key = f"standard:{self.year}:{level}"
            self.commands.append(Command(on, "set_standard", {
                "fiscal_year": self.year, "level": level, "category": "public_operating",
                "rate": rate, "small_school_floor": SMALL_SCHOOL_FLOOR_STUDENTS,
                "document": STANDARD_DOCUMENT.format(year=self.year), "effective_date": on},
                key=key))
            self.commands.append(Command(on, "decide_standard", {
                "standard_id": Ref(key), "approve": True, "effective_date": on}))

    def _snapshot(self, name: str, on: date, schools: list[SchoolPlan]) -> str:
        key = f"snapshot:{name}"
        self._snapshots[key] = Command(on, "snapshot_from_history", {
            "name": name, "as_of": on, "schools": [s.code for s in schools]}, key=key)
        self.commands.append(self._snapshots[key])
        return key

    def _tranche(self, fund: FundPlan, schools: list[SchoolPlan], semester: str,
                 snapshot_key: str, proposed: date, students: dict[str, int]) -> dict[str, str]:
        """One semester's tranche of a fund, proposed and approved as one batch; returns the
        Ref key of each school's allocation."""
        self._keys += 1
        key = f"tranche:{fund.code}:{semester}:{self._keys}"
        proposed, deadline = self._inside_deadline(fund, proposed)
        snapshot = self._snapshots[snapshot_key]
        if proposed < snapshot.day:
            # A county's own money must be passed on within 15 days: in a year whose Spring
            # Festival holiday runs into mid-February (2026) that is before the usual snapshot.
            snapshot.day = snapshot.args["as_of"] = proposed
        self.commands.append(Command(proposed, "propose_tranche", {
            "fund": fund.code, "snapshot": Ref(snapshot_key), "semester": semester,
            "effective_date": proposed}, key=key))
        approved = max(min(wd.add_working_days(proposed, self.rng.randint(1, 6)), deadline),
                       proposed)
        self.commands.append(Command(approved, "approve_tranche", {
            "tranche_id": Ref(key), "effective_date": approved}))
        keys = {}
        for school in schools:
            amount = self.operating_budget(school, students[school.code])
            keys[school.code] = f"{key}:{school.code}"
            self._approvals[keys[school.code]] = approved
            fund.allocated_minor += amount
            fund.tranche_allocated_minor[-1] += amount
        return keys

    def student_aid(self) -> None:
        """家庭经济困难学生生活补助: per eligible pupil per semester, paid 6–10 weeks into it."""
        fund = self._fund("XSZZ", "义务教育家庭经济困难学生生活补助", "student_aid", "central",
                          self.day(3, 2), levels=(*COMPULSORY_LEVELS, "special"))
        eligible = [s for s in self.schools if s.level in AID_FEN_PER_SEMESTER]
        for spring in (True, False):
            if not spring:
                self._next_tranche(fund, wd.between(self.rng, self.day(9, 10), self.day(9, 12)))
            start = wd.semester_start(self.year, spring)
            for school in eligible:
                students = school.students if spring else self.enrolment_after.get(school.code,
                                                                                    school.students)
                low, high = AID_SHARE_PERMILLE[school.locale]
                permille = self.rng.randint(low, high) + (20 if school.poverty_area else 0)
                pupils = students * permille // 1_000
                if pupils == 0:
                    continue
                amount = pupils * AID_FEN_PER_SEMESTER[school.level]
                window = (self.day(3, 9), self.day(3, 20)) if spring else (self.day(9, 15),
                                                                           self.day(9, 26))
                proposed = wd.between(self.rng, *window)
                term = "春季" if spring else "秋季"
                purpose = f"{self.year}年{term}学期家庭经济困难学生生活补助（{pupils}人）"
                key = self._allocate(fund, school, amount, purpose, proposed)
                paid_on = wd.on_or_after(max(start + timedelta(weeks=self.rng.randint(6, 10)),
                                             self._approved_on(key) + timedelta(days=1)))
                left = self.rng.randint(0, 2) if pupils > 10 else 0  # pupils who moved away
                paid = (pupils - left) * AID_FEN_PER_SEMESTER[school.level]
                bank = self.payroll_bank(school)
                item = self._spend(key, school, "aid", paid_on, paid_on.month, 0)
                item.scheduled.append((paid_on, paid, "student_aid", bank))
                if left:  # the balance goes back rather than sit idle (沉淀)
                    on = wd.add_working_days(paid_on, self.rng.randint(10, 20))
                    self.commands.append(Command(on, "cancel_allocation", {
                        "allocation_id": Ref(key), "effective_date": on,
                        "reason": f"{left}名受助学生转出，结余资金收回"}, school=school.code))

    def rural_teacher_subsidy(self) -> None:
        """乡村教师生活补助: ¥2,400–¥6,000 per rural teacher a year, more the remoter, monthly."""
        fund = self._fund("XCJS", "乡村教师生活补助", "personnel", "county", self.day(1, 2),
                          earmark="rural_support")
        low, high = RURAL_TEACHER_SUBSIDY_FEN
        for school in self.schools:
            if school.locale != "rural" or school.level not in (*COMPULSORY_LEVELS, "kindergarten"):
                continue
            rate = (low + (high - low) * school.remoteness_percent // 100) // (100 * YUAN) * 100 * YUAN
            amount = rate * school.teachers
            proposed = wd.between(self.rng, self.day(1, 6), self.day(1, 10))
            purpose = f"{self.year}年乡村教师生活补助（{school.teachers}人）"
            key = self._allocate(fund, school, amount, purpose, proposed)
            item = self._spend(key, school, "subsidy", self._approved_on(key), 12, 0)
            monthly = amount // 12
            for month in range(1, 13):
                paid_on = wd.on_or_after(max(date(self.year, month, 10), self._approved_on(key)))
                paid = monthly if month < 12 else amount - 11 * monthly
                item.scheduled.append((paid_on, paid, "salaries", self.payroll_bank(school)))

    def teacher_training(self) -> None:
        fund = self._fund("JSPX", "中小学幼儿园教师培训经费", "teacher_training", "municipal",
                          self.day(3, 3))
        for school in self.schools:
            if school.level in ("college", "adult"):
                continue
            amount = school.teachers * TRAINING_FEN_PER_TEACHER
            proposed = wd.between(self.rng, self.day(3, 10), self.day(4, 3))
            key = self._allocate(fund, school, amount, f"{self.year}年教师培训经费", proposed)
            self._spend(key, school, "training", self._approved_on(key), 12, amount,
                        use_permille=self.rng.randint(850, 980))

    def projects(self) -> None:
        """薄改 and equipment projects for 10–20% of schools, ¥0.3m–¥5m, skewed to rural and
        poor schools; adjusted to the tender price, paid in a few progress payments."""
        arrival = wd.between(self.rng, self.day(4, 14), self.day(4, 17))
        buildings = self._fund("XSWX", "校舍维修改造项目", "facilities", "provincial", arrival)
        equipment = self._fund("JXZB", "教学装备提升项目", "equipment", "municipal", arrival)
        candidates = [s for s in self.schools if s.level not in ("college", "adult") and not s.teaching_point]
        weights = [{"urban": 0.6, "town": 1.3, "rural": 2.2}[s.locale] * (1.5 if s.poverty_area else 1.0)
                   for s in candidates]
        count = max(1, len(self.schools) * PROJECT_SHARE_PERCENT // 100)
        for school in _weighted_sample(self.rng, candidates, weights, count):
            fund = buildings if self.rng.random() < 0.6 else equipment
            drawn = self.rng.lognormvariate(math.log(PROJECT_MEDIAN_FEN), 0.6)
            drawn *= 1.15 if school.locale == "rural" else 1.0
            amount = int(min(max(drawn, PROJECT_FEN[0]), PROJECT_FEN[1])) // (100 * YUAN) * 100 * YUAN
            what = "校舍维修改造" if fund is buildings else "教学装备提升"
            proposed = wd.between(self.rng, self.day(4, 21), self.day(5, 23))
            key = self._allocate(fund, school, amount, f"{school.name}{what}项目", proposed,
                                 wrong_amount=amount, rejection="项目实施方案不完整，请补充后重报")
            ready = self._approved_on(key)
            if self.rng.random() < 0.35:  # the tender came in under budget
                on = wd.add_working_days(ready, self.rng.randint(15, 30))
                delta = amount * self.rng.randint(3, 12) // 100 // YUAN * YUAN
                self._adjust(fund, key, -delta, on, "按中标价调减项目预算", school)
                amount -= delta
                ready = on
            start = min(wd.add_working_days(ready, self.rng.randint(10, 25)), self.day(8, 29))
            classes = ("construction", "repairs") if fund is buildings else ("equipment", "books")
            item = self._spend(key, school, "project", start, 12, amount, classes=classes,
                               use_permille=self.rng.randint(880, 1_000))
            item.payments_max = self.rng.randint(3, 8)

    def rural_support(self) -> None:
        """乡村学校发展补助 (rural_support earmark): town, rural and poverty-area compulsory
        schools only, allocated in May–June when the provincial transfer arrives."""
        fund = self._fund("XCFC", "乡村学校发展补助资金", "public_operating", "provincial",
                          wd.between(self.rng, self.day(5, 12), self.day(5, 15)),
                          earmark="rural_support", levels=COMPULSORY_LEVELS)
        for school in self.schools:
            eligible = school.locale in ("town", "rural") or school.poverty_area
            if not eligible or school.level not in COMPULSORY_LEVELS:
                continue
            counted = max(school.students, SMALL_SCHOOL_FLOOR_STUDENTS)
            amount = RURAL_SUPPORT_FEN_PER_PUPIL * counted
            amount += RURAL_SUPPORT_SMALL_SCHOOL_FEN if school.students < 200 else 0
            amount = amount * 3 // 2 if school.poverty_area else amount
            proposed = wd.between(self.rng, self.day(5, 19), self.day(6, 13))
            key = self._allocate(fund, school, amount, f"{self.year}年乡村学校发展补助", proposed)
            self._spend(key, school, "operating", self._approved_on(key), 12, amount,
                        training=True, use_permille=self.rng.randint(900, 990))

    def computers(self) -> None:
        fund = self._fund("JSJ", "中小学计算机教室配备", "equipment", "provincial", self.day(5, 6),
                          unit="COMPUTER")
        chosen = self._resource_schools(20)
        for school in chosen:
            count = min(max(school.students // 25, 10), 60) // 5 * 5
            proposed = wd.between(self.rng, self.day(5, 8), self.day(5, 23))
            key = self._allocate(fund, school, count, f"计算机教室配备（{count}台）", proposed)
            item = self._spend(key, school, "computers", self._approved_on(key), 12, 0,
                               unit=fund.unit)
            first = min(count, max(5, count // 2 // 5 * 5)) if count > 20 else count
            supplier = f"江苏{self.rng.choice(('智联', '华博', '中科', '云启'))}信息技术有限公司"
            on = wd.between(self.rng, self.day(7, 7), self.day(8, 15))
            item.scheduled.append((on, first, "equipment", supplier))
            if count > first:
                later = wd.between(self.rng, on + timedelta(days=7), self.day(9, 26))
                item.scheduled.append((later, count - first, "equipment", supplier))

    def teacher_posts(self) -> None:
        fund = self._fund("JSBZ", "新增中小学教师编制", "personnel", "county", self.day(6, 2),
                          unit="TEACHER_POST")
        for school in self._resource_schools(25):
            posts = self.rng.randint(1, max(1, min(6, school.teachers // 15)))
            proposed = wd.between(self.rng, self.day(6, 9), self.day(6, 27))
            key = self._allocate(fund, school, posts, f"{self.year}年新招聘教师编制（{posts}名）", proposed)
            item = self._spend(key, school, "posts", self._approved_on(key), 12, 0, unit=fund.unit)
            filled = posts - (1 if posts > 1 and self.rng.random() < 0.1 else 0)
            on = wd.between(self.rng, self.day(8, 25), self.day(9, 5))
            payee = f"{self.year}年{school.district}公开招聘新教师（到岗）"
            item.scheduled.append((on, filled, "staffing", payee))

    def reclassifications(self) -> None:
        """The statistics office's yearly update (as at 30 June) moves a few schools up a class."""
        count = max(1, len(self.schools) // 200) if len(self.schools) >= 20 else 0
        candidates = [s for s in self.schools if s.locale in ("rural", "town") and not s.poverty_area]
        for school in self.rng.sample(candidates, min(count, len(candidates))):
            to = "town" if school.locale == "rural" else "urban"
            on = self.day(7, 1)
            reason = f"{self.year}年统计用城乡划分代码调整（{_LOCALE_ZH[school.locale]}→{_LOCALE_ZH[to]}）"
            self.commands.append(Command(on, "reclassify_school", {
                "code": school.code, "locale": to, "reason": reason, "effective_date": on},
                school=school.code))

    # ------------------------------------------------------------- parts

    def payroll_bank(self, school: SchoolPlan) -> str:
        return f"{school.district}教育系统代发账户（{_BANKS.get(school.district, '徐州农村商业银行')}）"

    def _operating_schools(self) -> list[SchoolPlan]:
        return [s for s in self.schools if s.level in OPERATING_RATE_FEN]

    def _resource_schools(self, percent: int) -> list[SchoolPlan]:
        candidates = [s for s in self.schools if s.compulsory and not s.teaching_point]
        weights = [{"urban": 0.5, "town": 1.0, "rural": 2.0}[s.locale] for s in candidates]
        return _weighted_sample(self.rng, candidates, weights, max(1, len(candidates) * percent // 100))

    def _report_enrolment(self, school: SchoolPlan) -> int:
        """Autumn enrolment (开学初学籍统计): most schools change by a few per cent."""
        if school.code in self.enrolment_after:
            return self.enrolment_after[school.code]
        change_permille = max(-100, min(100, round(self.rng.gauss(0, 40))))
        students = max(1, school.students + school.students * change_permille // 1_000)
        on = wd.between(self.rng, self.day(8, 28), self.day(9, 8))
        self.enrolment_after[school.code] = students
        self.reported_on[school.code] = on
        self.commands.append(Command(on, "report_enrolment", {
            "code": school.code, "students": students, "effective_date": on,
            "reason": f"{self.year}年秋季学期开学初学籍统计"}, school=school.code))
        return students

    def _fund(self, suffix: str, name: str, category: str, source: str, opened_on: date, *,
              unit: str = "CNY", earmark: str = "none", levels: Iterable[str] = ()) -> FundPlan:
        fund = FundPlan(code=f"{self.year}-{suffix}", name=f"{self.year}年{name}", category=category,
                        source=source, opened_on=opened_on, unit=unit, earmark=earmark,
                        levels=tuple(levels), tranche_allocated_minor=[0])
        self.funds.append(fund)
        return fund

    def _next_tranche(self, fund: FundPlan, arrives_on: date) -> None:
        fund.tranches.append((arrives_on, 0))
        fund.tranche_allocated_minor.append(0)

    def _inside_deadline(self, fund: FundPlan, proposed: date) -> tuple[date, date]:
        """An allocation's proposal moved inside its step's pass-through deadline from the
        receipt it passes on (a county's own money 15 days, transfers 30 or 60: 预算法 art.
        52), and the last day it may be approved."""
        receipt = self._receipt_before(fund, proposed)
        days = provenance.pass_through_days(fund.source, fund.category, fund.earmark)
        deadline = wd.on_or_before(receipt + timedelta(days=days - PASS_THROUGH_MARGIN_DAYS))
        return max(receipt, min(proposed, deadline)), deadline

    def _receipt_before(self, fund: FundPlan, day: date) -> date:
        receipts = [fund.opened_on, *(d for d, _ in fund.tranches)]
        return max(d for d in receipts if d <= day)

    def _allocate(self, fund: FundPlan, school: SchoolPlan, amount: int, purpose: str,
                  proposed: date, *, wrong_amount: int | None = None,
                  rejection: str = "核定学生数与学籍系统不符，请按学籍人数重报") -> str:
        """Proposal and approval (after a rejection and a corrected proposal, now and then);
        returns the Ref key of the approved allocation."""
        assert amount > 0
        self._keys += 1
        key = f"allocation:{fund.code}:{school.code}:{self._keys}"
        proposed, deadline = self._inside_deadline(fund, proposed)
        args = {"fund": fund.code, "school": school.code, "purpose": purpose, "unit": fund.unit}
        rejected = (wrong_amount is not None and wrong_amount > 0
                    and self.rng.random() * 100 < REJECTION_PERCENT
                    and wd.add_working_days(proposed, 8) <= deadline)
        if rejected:
            assert wrong_amount is not None
            first = f"{key}:rejected"
            # Proposals commit nothing, so a larger mistaken amount needs no reserve.
            self.commands.append(Command(proposed, "propose_allocation", {
                **args, "amount": wrong_amount, "effective_date": proposed}, key=first,
                school=school.code))
            decided = wd.add_working_days(proposed, self.rng.randint(1, 3))
            self.commands.append(Command(decided, "reject_allocation", {
                "allocation_id": Ref(first), "reason": rejection, "effective_date": decided},
                school=school.code))
            proposed = wd.add_working_days(decided, self.rng.randint(0, 2))
        self.commands.append(Command(proposed, "propose_allocation", {
            **args, "amount": amount, "effective_date": proposed}, key=key, school=school.code))
        approved = min(wd.add_working_days(proposed, self.rng.randint(1, 6)), deadline)
        approved = max(approved, proposed)
        self.commands.append(Command(approved, "approve_allocation", {
            "allocation_id": Ref(key), "effective_date": approved}, school=school.code))
        self._approvals[key] = approved
        fund.allocated_minor += amount
        fund.tranche_allocated_minor[-1] += amount
        return key

    def _approved_on(self, key: str) -> date:
        return self._approvals[key]

    def _adjust(self, fund: FundPlan, key: str, delta: int, on: date, reason: str,
                school: SchoolPlan) -> None:
        if delta == 0:
            return
        self.commands.append(Command(on, "adjust_allocation", {
            "allocation_id": Ref(key), "delta": delta, "reason": reason, "effective_date": on},
            school=school.code))
        if delta > 0:
            fund.allocated_minor += delta
            fund.tranche_allocated_minor[-1] += delta

    def _spend(self, key: str, school: SchoolPlan, family: str, start: date, end_month: int,
               amount: int, *, training: bool = False, classes: tuple[str, ...] = OPERATING_CLASSES,
               use_permille: int = 1_000, unit: str = "CNY") -> SpendItem:
        usable = amount * use_permille // 1_000
        training_minor = usable * self.rng.randint(600, 800) // 10_000 if training else 0
        item = SpendItem(allocation=key, school=school.code, family=family, unit=unit,
                         start=start + timedelta(days=1), end_month=end_month,
                         flexible_minor=usable - training_minor, training_minor=training_minor,
                         classes=classes)
        self.spending.append(item)
        return item

    def _open(self, fund: FundPlan) -> None:
        """Opens each fund with its first tranche plus the reserve; later tranches arrive as
        appropriation increases of what their allocations need, plus the reserve."""
        parts = fund.tranche_allocated_minor
        first = parts[0] + parts[0] * RESERVE_BASIS_POINTS // 10_000 + 1
        preset = provenance.preset_of([school.district for school in self.schools])
        self.commands.append(Command(fund.opened_on, "open_fund", {
            "code": fund.code, "name": fund.name, "fiscal_year": self.year, "unit": fund.unit,
            "amount": first, "source": fund.source, "category": fund.category,
            "earmark": fund.earmark, "levels": list(fund.levels),
            "function_code": provenance.function_code(fund.category, fund.levels),
            "doc_no": provenance.doc_no(preset, fund.source, self.year,
                                        10 + self.funds.index(fund) * 3),
            "shares": provenance.shares(fund.category, fund.earmark, fund.levels, first),
            "effective_date": fund.opened_on}))
        for (arrives_on, _), part in zip(fund.tranches, parts[1:], strict=True):
            delta = part + part * RESERVE_BASIS_POINTS // 10_000 + 1
            self.commands.append(Command(arrives_on, "adjust_fund", {
                "code": fund.code, "delta": delta, "effective_date": arrives_on,
                "reason": "第二批资金到位（秋季学期）"}))


_LOCALE_ZH = {"urban": "城区", "town": "镇区", "rural": "乡村"}
_BANKS = {"Tongshan": "江苏铜山农村商业银行", "Jiawang": "江苏贾汪农村商业银行",
          "Feng": "江苏丰县农村商业银行", "Pei": "江苏沛县农村商业银行",
          "Suining": "江苏睢宁农村商业银行", "Xinyi": "江苏新沂农村商业银行",
          "Pizhou": "江苏邳州农村商业银行"}


def _weighted_sample(rng: random.Random, items: list[SchoolPlan], weights: list[float],
                     count: int) -> list[SchoolPlan]:
    """`count` distinct items, each drawn with probability ∝ weight (Efraimidis–Spirakis keys)."""
    keyed = sorted(zip(items, weights, strict=True),
                   key=lambda pair: rng.random() ** (1.0 / pair[1]), reverse=True)
    return sorted((item for item, _ in keyed[:count]), key=lambda s: s.code)

