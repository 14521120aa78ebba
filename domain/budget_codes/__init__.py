"""The government's classification of spending, as shipped with the project (政府收支分类).

Two tables, read once from the CSV files beside this module:

- `functional.csv`: 支出功能分类 (what the money is for), 类 205 教育支出 with its 款 and 项,
  e.g. 2050202 小学教育. A fund carries one 项-level (7-digit) code.
- `economic.csv`: 部门预算支出经济分类 (what the money buys), e.g. 30201 办公费. Each of the
  bureau's expenditure classes maps onto one code (`ECONOMIC_CODE_OF_CLASS`).

Source: 财政部《政府收支分类科目》 (the yearly edition; codes as in the 2024 edition). Every row
says `unverified`: the codes were written from the published tables as remembered and were not
checked line by line against the official text in this repository's history. Check them
against the edition in force before relying on them in a report to the finance bureau; a
corrected row changes no stored event (events hold the code, the tables only name it).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib.resources import files

from domain.classification import Category, ExpenditureClass, Level
from domain.errors import UnknownClassificationCode

FUNCTION_CODE_LENGTH = 7  # a 项 of 类 205: 205 + 款 (2 digits) + 项 (2 digits)


@dataclass(frozen=True)
class BudgetCode:
    code: str
    name_zh: str
    name_en: str
    verified: bool

    def name(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") else self.name_en


def _table(filename: str) -> dict[str, BudgetCode]:
    text = files(__package__).joinpath(filename).read_text(encoding="utf-8")
    return {row["code"]: BudgetCode(row["code"], row["name_zh"], row["name_en"],
                                    row["verified"] == "verified")
            for row in csv.DictReader(text.splitlines())}


FUNCTIONAL: dict[str, BudgetCode] = _table("functional.csv")
ECONOMIC: dict[str, BudgetCode] = _table("economic.csv")

# Each expenditure class's 部门预算支出经济分类 code. Where the bureau's class is wider than one
# national code, the code of its main use (noted); the class stays the rule the books check.
ECONOMIC_CODE_OF_CLASS: dict[ExpenditureClass, str] = {
    ExpenditureClass.SALARIES: "30101",  # 基本工资 (the class is all of 301)
    ExpenditureClass.OFFICE: "30201",
    ExpenditureClass.PRINTING: "30202",
    ExpenditureClass.UTILITIES: "30206",  # 电费 (water is 30205)
    ExpenditureClass.POST_TELECOM: "30207",
    ExpenditureClass.HEATING: "30208",
    ExpenditureClass.TRAVEL: "30211",
    ExpenditureClass.REPAIRS: "30213",
    ExpenditureClass.TRAINING: "30216",
    ExpenditureClass.TEACHING: "30218",  # 专用材料费: teaching, lab and sports materials (inference)
    ExpenditureClass.BOOKS: "31099",  # library books as a capital purchase (inference)
    ExpenditureClass.SERVICE_FEES: "30226",
    ExpenditureClass.EQUIPMENT: "31002",  # 办公设备购置 (teaching equipment may be 31003)
    ExpenditureClass.CONSTRUCTION: "30901",  # 房屋建筑物购建 under 基本建设
    # Principal repaid has no 部门支出经济分类 code (it is financing); 307 is its interest.
    ExpenditureClass.DEBT_REPAYMENT: "30701",
    ExpenditureClass.STUDENT_AID: "30308",  # 助学金
    ExpenditureClass.MEALS: "30399",  # nutrition meals: other transfers to households (inference)
    ExpenditureClass.STAFFING: "30101",  # a post filled: the code of what the post pays
}

# The functional code a fund gets when none is given (and the upcaster's default for funds
# opened before funds carried one): the 项 of its single level, else by category, else
# 其他普通教育支出. A fund for several levels should name its code itself.
_BY_LEVEL: dict[Level, str] = {
    Level.KINDERGARTEN: "2050201", Level.PRIMARY: "2050202", Level.JUNIOR: "2050203",
    Level.SENIOR: "2050204", Level.COLLEGE: "2050205", Level.VOCATIONAL: "2050302",
    Level.SPECIAL: "2050701", Level.ADULT: "2050402",
}
_BY_CATEGORY: dict[Category, str] = {Category.TEACHER_TRAINING: "2050801"}
FUNCTION_CODE_FALLBACK = "2050299"


def default_function_code(category: str, levels: list[str] | tuple[str, ...]) -> str:
    if len(levels) == 1 and levels[0] in _BY_LEVEL:
        return _BY_LEVEL[Level(levels[0])]
    if category in _BY_CATEGORY:
        return _BY_CATEGORY[Category(category)]
    return FUNCTION_CODE_FALLBACK


def check_function_code(code: object, field: str = "function_code") -> str:
    """A 项-level code of 教育支出 in the shipped table, else 422 naming the field."""
    text = code if isinstance(code, str) else ""
    if len(text) != FUNCTION_CODE_LENGTH or text not in FUNCTIONAL:
        msg = (f"{field} {code!r} is not a 项-level code of 205 教育支出 in the shipped "
               "政府收支分类 table (domain/budget_codes/functional.csv), such as 2050202 小学教育")
        raise UnknownClassificationCode(msg, field)
    return text


def check_economic_code(code: object, field: str = "economic_code") -> str:
    """A code of the shipped 部门预算支出经济分类 table, else 422 naming the field."""
    text = code if isinstance(code, str) else ""
    if text not in ECONOMIC:
        msg = (f"{field} {code!r} is not in the shipped 部门预算支出经济分类 table "
               "(domain/budget_codes/economic.csv), such as 30201 办公费")
        raise UnknownClassificationCode(msg, field)
    return text


def economic_code_of(expenditure_class: str) -> str:
    return ECONOMIC_CODE_OF_CLASS[ExpenditureClass(expenditure_class)]


def function_name(code: str, language: str) -> str:
    found = FUNCTIONAL.get(code)
    return found.name(language) if found else code


def economic_name(code: str, language: str) -> str:
    found = ECONOMIC.get(code)
    return found.name(language) if found else code
