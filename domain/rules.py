"""Checks of plain input that every command shares: text, codes, whole numbers, dates."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from domain.errors import DateInFuture, InvalidInput
from domain.limits import REASON_LENGTH_MAX
from domain.units import money_text

E = TypeVar("E", bound=StrEnum)
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


# Bidirectional embeddings, overrides and isolates: they make text read differently from how
# it is stored (Trojan Source, CVE-2021-42574). Plain marks (U+200E, U+200F) stay allowed.
BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
LINE_BREAKS = frozenset("\n\r")
# Every character clean_text refuses wherever it stands: C0 and C1 controls (category Cc is
# exactly U+0000-U+001F and U+007F-U+009F), lone surrogates (Cs) and the bidirectional controls.
# One search in C says whether a text holds one; only then is the text read a character at a
# time, to name the first (~4.5 µs a payee before, ~0.4 µs now, on every text of every write).
REFUSED_ANYWHERE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def clean_text(value: str, what: str, *, multiline: bool = False) -> str:
    """Text as every path takes it in (HTTP, CSV import, CLI): normalised to NFC, refusing C0
    and C1 control characters (newlines only where the field allows several lines), lone
    surrogates, bidirectional overrides, and text that holds only invisible characters
    (zero-width and other format characters, white space) — a name that reads as nothing.

    The one validator: the ledger's `check_text` calls it, and the API's text types
    (api/schemas/) call it so that a refusal names the field in a 422."""
    if not isinstance(value, str):
        msg = f"{what} must be text"
        raise InvalidInput(msg)
    text = unicodedata.normalize("NFC", value)
    if REFUSED_ANYWHERE.search(text) is not None:
        _refuse_characters(text, what, multiline=multiline)
    if text and all(unicodedata.category(c) == "Cf" or c.isspace() for c in text):
        msg = f"{what} holds only invisible characters"
        raise InvalidInput(msg)
    return text


def _refuse_characters(text: str, what: str, *, multiline: bool) -> None:
    """Refuses the first control character (a line break only where lines are not allowed),
    lone surrogate or bidirectional control of `text`, naming it."""
    for char in text:
        category = unicodedata.category(char)
        if category == "Cc" and not (multiline and char in LINE_BREAKS):
            msg = f"{what} holds the control character U+{ord(char):04X}"
            raise InvalidInput(msg)
        if category == "Cs":
            msg = f"{what} holds a lone surrogate U+{ord(char):04X}"
            raise InvalidInput(msg)
        if char in BIDI_CONTROLS:
            msg = f"{what} holds the bidirectional control U+{ord(char):04X}"
            raise InvalidInput(msg)


def check_text(value: str, what: str, length_max: int, *, required: bool = True,
               multiline: bool = False) -> str:
    stripped = clean_text(value, what, multiline=multiline).strip()
    if required and not stripped:
        msg = f"{what} must not be empty"
        raise InvalidInput(msg, f"{what} 不能为空")
    if len(stripped) > length_max:
        msg = f"{what} must be at most {length_max} characters"
        raise InvalidInput(msg, f"{what} 不能超过 {length_max} 个字符")
    return stripped



def reason_text(reason: str, *, required: bool = True, what: str = "reason") -> str:
    """The one rule for a reason a person writes: lines of text (line breaks kept, so a
    reason typed in a form reads as written), at most REASON_LENGTH_MAX characters."""
    return check_text(reason, what, REASON_LENGTH_MAX, required=required, multiline=True)


def check_code(value: str, what: str, length_max: int) -> str:
    code = check_text(value, what, length_max)
    if not _CODE.match(code):
        msg = f"{what} {code!r} may hold only letters, digits, '-', '_' and '.'"
        raise InvalidInput(msg, f"{what} {code!r} 只能包含字母、数字、“-”“_”和“.”")
    return code


def check_choice(value: str, choices: type[E], what: str) -> E:
    try:
        return choices(value)
    except ValueError:
        allowed = ", ".join(c.value for c in choices)
        msg = f"{what} {value!r} is not one of: {allowed}"
        raise InvalidInput(msg, f"{what} {value!r} 不是以下之一：{allowed}") from None


def check_whole(value: Any, what: str, low: int, high: int, *, fen: bool = False) -> int:
    """A whole number from `low` to `high`: an int, never a bool (an int subclass) nor a float
    that happens to be whole. `fen`: it is money, counted in fen."""
    if type(value) is not int or not low <= value <= high:
        if fen:  # a person reads money in yuan; the field itself counts fen
            msg = (f"{what} must be a whole number of fen between {low} and {high} "
                   f"({money_text(low)} to {money_text(high)})")
            detail = (f"{what} 须为以分计的整数，金额在 {money_text(low, language='zh')} 至 "
                      f"{money_text(high, language='zh')} 之间")
        else:
            msg = f"{what} must be a whole number between {low} and {high}"
            detail = f"{what} 须为 {low} 至 {high} 之间的整数"
        raise InvalidInput(msg, detail)
    return value


def check_not_future(day: date, today: date, what: str) -> date:
    if day > today:
        msg = f"{what} {day} is in the future (today is {today})"
        raise DateInFuture(msg, f"{what} {day} 晚于今天（{today}）")
    return day
