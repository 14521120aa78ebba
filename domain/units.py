"""Units of account. Every amount is an integer in its unit's minor unit; never a float.

`CNY` has two decimal places (amounts are in fen). Resource units the bureau allocates
(teacher posts, computers, textbook sets…) have none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.errors import AmountOutOfRange, UnknownUnit
from domain.limits import AMOUNT_MINOR_MAX

_UNIT_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,31}$")


@dataclass(frozen=True)
class Unit:
    code: str
    decimal_places: int
    label_en: str
    label_zh: str

    def format(self, amount_minor: int) -> str:
        """Shows an amount for people (e.g. `1234.50`), never for arithmetic."""
        if self.decimal_places == 0:
            return str(amount_minor)
        sign = "-" if amount_minor < 0 else ""
        whole, minor = divmod(abs(amount_minor), 10**self.decimal_places)
        return f"{sign}{whole}.{minor:0{self.decimal_places}d}"

    def for_people(self, amount_minor: int, language: str = "en") -> str:
        """The one way an amount is written for a person to read: yuan with two decimals and
        thousands separators (`¥45,519.50`, `45,519.50 元`), a resource count with its own
        name (`3 teacher posts`, `3 个教师编制`). JSON keeps integer minor units."""
        sign = "-" if amount_minor < 0 else ""
        whole, minor = divmod(abs(amount_minor), 10**self.decimal_places)
        figure = f"{whole:,}" if self.decimal_places == 0 else f"{whole:,}.{minor:0{self.decimal_places}d}"
        if self.code == "CNY":
            return f"{sign}{figure} 元" if language.startswith("zh") else f"{sign}¥{figure}"
        if language.startswith("zh"):
            return f"{sign}{figure} 个{self.label_zh}"
        return f"{sign}{figure} {self.label_en}"


CNY = Unit("CNY", 2, "yuan", "元")
KNOWN_UNITS: dict[str, Unit] = {
    unit.code: unit
    for unit in (
        CNY,
        Unit("TEACHER_POST", 0, "teacher posts", "教师编制"),
        Unit("COMPUTER", 0, "computers", "计算机"),
        Unit("TEXTBOOK_SET", 0, "textbook sets", "教科书套"),
        Unit("MULTIMEDIA_CLASSROOM", 0, "multimedia classrooms", "多媒体教室"),
    )
}


def unit_of(code: str) -> Unit:
    """The bureau may declare further resource units: any upper-case code is one, with no decimals."""
    if code in KNOWN_UNITS:
        return KNOWN_UNITS[code]
    if not _UNIT_CODE.match(code):
        msg = f"unit {code!r} is not a unit code (upper-case letters, digits, underscore)"
        raise UnknownUnit(msg)
    return Unit(code, 0, code.lower().replace("_", " "), code)


def check_amount(amount_minor: int, what: str = "amount") -> int:
    """Amounts are positive integers below 10^15 minor units."""
    if type(amount_minor) is not int:  # bool is an int subclass and no amount
        msg = f"{what} must be an integer number of minor units"
        raise AmountOutOfRange(msg, f"{what} 须为以分计的整数")
    if not 0 < amount_minor <= AMOUNT_MINOR_MAX:
        msg = f"{what} must be between 1 and {AMOUNT_MINOR_MAX} minor units, got {amount_minor}"
        raise AmountOutOfRange(msg, f"{what} 须在 1 至 {AMOUNT_MINOR_MAX} 分之间，实际为 {amount_minor}")
    return amount_minor


def check_delta(delta_minor: int, what: str = "delta") -> int:
    """A delta may be negative but never zero, and its size is bounded like an amount."""
    if type(delta_minor) is not int:
        msg = f"{what} must be an integer number of minor units"
        raise AmountOutOfRange(msg, f"{what} 须为以分计的整数")
    if delta_minor == 0 or abs(delta_minor) > AMOUNT_MINOR_MAX:
        msg = f"{what} must be non-zero and at most {AMOUNT_MINOR_MAX} in size, got {delta_minor}"
        raise AmountOutOfRange(msg, f"{what} 须不为零且绝对值不超过 {AMOUNT_MINOR_MAX} 分，"
                                    f"实际为 {delta_minor}")
    return delta_minor


def money_text(amount_minor: int, unit_code: str = "CNY", language: str = "en") -> str:
    """`Unit.for_people` by unit code: problem details, CLI lines, findings and pages use it."""
    return unit_of(unit_code).for_people(amount_minor, language)
