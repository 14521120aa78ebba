"""Checks of plain input that every command shares: text, codes, dates."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import TypeVar

from domain.errors import DateInFuture, InvalidInput

E = TypeVar("E", bound=StrEnum)
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def check_text(value: str, what: str, length_max: int, *, required: bool = True) -> str:
    if not isinstance(value, str):
        msg = f"{what} must be text"
        raise InvalidInput(msg)
    stripped = value.strip()
    if required and not stripped:
        msg = f"{what} must not be empty"
        raise InvalidInput(msg)
    if len(stripped) > length_max:
        msg = f"{what} must be at most {length_max} characters"
        raise InvalidInput(msg)
    return stripped


def check_code(value: str, what: str, length_max: int) -> str:
    code = check_text(value, what, length_max)
    if not _CODE.match(code):
        msg = f"{what} {code!r} may hold only letters, digits, '-', '_' and '.'"
        raise InvalidInput(msg)
    return code


def check_choice(value: str, choices: type[E], what: str) -> E:
    try:
        return choices(value)
    except ValueError:
        allowed = ", ".join(c.value for c in choices)
        msg = f"{what} {value!r} is not one of: {allowed}"
        raise InvalidInput(msg) from None


def check_not_future(day: date, today: date, what: str) -> date:
    if day > today:
        msg = f"{what} {day} is in the future (today is {today})"
        raise DateInFuture(msg)
    return day
