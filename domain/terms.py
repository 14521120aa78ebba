"""The bureau's words: every value of the books (a level, locale, source, category, earmark,
economic class, status, district) with its Chinese and English name, so a page, an export or a
finding shows 小学 / 办公费 / 丰县 and never `primary` / `office` / `Feng`.

The words themselves are data, in terms.toml next to this module, read once.

The economic classes carry their 部门支出经济分类 code where the class maps onto one
(e.g. 30201 办公费); classes the bureau groups more widely than the national table show no code.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from domain.budget_codes import ECONOMIC_CODE_OF_CLASS
from domain.classification import ExpenditureClass
from domain.errors import LedgerError

_WORDS: dict[str, dict[str, Any]] = tomllib.loads(
    Path(__file__).with_name("terms.toml").read_text(encoding="utf-8"))


def _pairs(section: str) -> dict[str, tuple[str, str]]:
    return {key: (zh, en) for key, (zh, en) in _WORDS[section].items()}


# value: (zh, en)
VALUES = _pairs("values")
DISTRICTS_ZH: dict[str, str] = _WORDS["districts_zh"]
# Economic classes with their 部门预算支出经济分类 code (domain/budget_codes), e.g. 办公费（30201）.
_CLASS_NAMES = _pairs("class_names")
VALUES.update({value: (f"{zh}（{ECONOMIC_CODE_OF_CLASS[ExpenditureClass(value)]}）",
                       f"{en} ({ECONOMIC_CODE_OF_CLASS[ExpenditureClass(value)]})")
               for value, (zh, en) in _CLASS_NAMES.items()})


def term(value: object, language: str) -> str:
    """A value of the books in the language; a value without a name (a school code, a
    payee) shows as it is. True/False read 是/否 and yes/no."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    text = str(value)
    if text in DISTRICTS_ZH:
        return DISTRICTS_ZH[text] if language.startswith("zh") else text
    pair = VALUES.get(text)
    if pair is None:
        return text
    return pair[0] if language.startswith("zh") else pair[1]


# What each kind of record is called, and which are the bureau's business (the rest are the
# ledger's own bookkeeping: voucher registers, idempotency records, users and tokens).
ENTITY_TYPES = _pairs("entity_types")
INTERNAL_ENTITY_TYPES = frozenset({"VoucherNumber", "IdempotencyRecord", "AccessToken", "UserAccount",
                                   "TrancheSlot"})

# Every event the journal can show (its class's qualified name), in both languages.
EVENTS = _pairs("events")


def event_name(kind: str, language: str) -> str:
    """An event as a person reads it (拨款批准 / Allocation approved); an event without a
    name yet shows its kind (a test lists every event the domain defines)."""
    pair = EVENTS.get(kind) or ENTITY_TYPES.get(kind)
    if pair is None:
        return kind
    return pair[0] if language.startswith("zh") else pair[1]


# Every refusal of the books (domain/errors.py codes) as a person reads it in Chinese; in
# English the error's own title serves.
ERRORS_ZH: dict[str, str] = _WORDS["errors_zh"]


def error_title(code: str, title_en: str, language: str) -> str:
    """A refusal's title in the language (its code when no title is known)."""
    if language.startswith("zh"):
        return ERRORS_ZH.get(code, code)
    return title_en or code


def refusal_line(error: LedgerError, language: str) -> str:
    """A refusal in one line for the top of a page: its title, then its detail where the
    language has one (a Chinese page never shows the English sentence)."""
    title = error_title(error.code, error.title, language)
    detail = error.detail_in(language)
    if not detail or detail.startswith(title):  # 资金不存在：PUB-9 says its title already
        return detail or title
    return f"{title}{'：' if language.startswith('zh') else ': '}{detail}"


def _titles_en(kind: type[LedgerError]) -> dict[str, str]:
    titles = {kind.code: kind.title}
    for sub in kind.__subclasses__():
        titles |= _titles_en(sub)
    return titles


def refusal_title(code: str, language: str) -> str:
    """A refusal code's title in the language, its English from the error classes defined
    so far (walked at each call: modules define refusals of their own)."""
    return error_title(code, _titles_en(LedgerError).get(code, ""), language)
