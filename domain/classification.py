"""The bureau's classifications: school levels and locales, fund sources, categories,
earmarks, and the economic classes of spending each category may pay for."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    KINDERGARTEN = "kindergarten"
    PRIMARY = "primary"
    JUNIOR = "junior"
    SENIOR = "senior"
    NINE_YEAR = "nine_year"
    COMPLETE = "complete"
    VOCATIONAL = "vocational"
    COLLEGE = "college"
    SPECIAL = "special"
    ADULT = "adult"


class Locale(StrEnum):
    """城区 / 镇区 / 乡村, per 《统计上划分城乡的规定》."""

    URBAN = "urban"
    TOWN = "town"
    RURAL = "rural"


class Source(StrEnum):
    CENTRAL = "central"
    PROVINCIAL = "provincial"
    MUNICIPAL = "municipal"
    COUNTY = "county"
    OTHER = "other"


class Category(StrEnum):
    PERSONNEL = "personnel"  # 人员经费
    PUBLIC_OPERATING = "public_operating"  # 公用经费
    FACILITIES = "facilities"  # 校舍/基建
    EQUIPMENT = "equipment"  # 设备购置
    TEACHER_TRAINING = "teacher_training"  # 教师培训
    STUDENT_AID = "student_aid"  # 学生资助
    NUTRITION = "nutrition"  # 营养改善计划
    OTHER = "other"


class Earmark(StrEnum):
    NONE = "none"
    RURAL_SUPPORT = "rural_support"


class ExpenditureClass(StrEnum):
    """Economic classes of spending (government economic classification 301/302/303/309/310)."""

    SALARIES = "salaries"  # 301 工资福利支出
    OFFICE = "office"  # 30201 办公费
    PRINTING = "printing"  # 30202 印刷费
    UTILITIES = "utilities"  # 30205/30206 水电费
    POST_TELECOM = "post_telecom"  # 30207 邮电费
    HEATING = "heating"  # 30208 取暖费
    TRAVEL = "travel"  # 30211 差旅费
    REPAIRS = "repairs"  # 30213 维修(护)费
    TRAINING = "training"  # 30216 培训费
    TEACHING = "teaching"  # 教学业务与管理, 实验实习, 文体活动
    BOOKS = "books"  # 图书资料
    SERVICE_FEES = "service_fees"  # 30226 劳务费
    EQUIPMENT = "equipment"  # 310 设备购置
    CONSTRUCTION = "construction"  # 309 基本建设
    DEBT_REPAYMENT = "debt_repayment"  # 债务还本付息
    STUDENT_AID = "student_aid"  # 303 对个人和家庭的补助
    MEALS = "meals"  # 营养膳食
    STAFFING = "staffing"  # a teacher post filled: the resource unit's "spending"


_OPERATING_CLASSES = (
    ExpenditureClass.OFFICE,
    ExpenditureClass.PRINTING,
    ExpenditureClass.UTILITIES,
    ExpenditureClass.POST_TELECOM,
    ExpenditureClass.HEATING,
    ExpenditureClass.TRAVEL,
    ExpenditureClass.REPAIRS,
    ExpenditureClass.TRAINING,
    ExpenditureClass.TEACHING,
    ExpenditureClass.BOOKS,
    ExpenditureClass.SERVICE_FEES,
    ExpenditureClass.EQUIPMENT,
)

# Per-student public operating funds may not pay salaries, construction or debt
# (财教〔2006〕5号 and successors); the other categories pay for what their name says.
DEFAULT_CLASSES: dict[Category, tuple[ExpenditureClass, ...]] = {
    Category.PERSONNEL: (ExpenditureClass.SALARIES, ExpenditureClass.STAFFING),
    Category.PUBLIC_OPERATING: _OPERATING_CLASSES,
    Category.FACILITIES: (ExpenditureClass.CONSTRUCTION, ExpenditureClass.REPAIRS),
    Category.EQUIPMENT: (ExpenditureClass.EQUIPMENT, ExpenditureClass.BOOKS),
    Category.TEACHER_TRAINING: (ExpenditureClass.TRAINING, ExpenditureClass.TRAVEL),
    Category.STUDENT_AID: (ExpenditureClass.STUDENT_AID,),
    Category.NUTRITION: (ExpenditureClass.MEALS,),
    Category.OTHER: tuple(c for c in ExpenditureClass if c is not ExpenditureClass.DEBT_REPAYMENT),
}

# The class assumed when a voucher names none: the category's everyday class.
DEFAULT_CLASS: dict[Category, ExpenditureClass] = {
    category: classes[0] for category, classes in DEFAULT_CLASSES.items()
}
DEFAULT_CLASS[Category.PUBLIC_OPERATING] = ExpenditureClass.TEACHING
DEFAULT_CLASS[Category.OTHER] = ExpenditureClass.OFFICE
