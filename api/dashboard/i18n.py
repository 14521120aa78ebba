"""The dashboard's words in Chinese (the default) and English: the words themselves are data,
in labels.toml next to this module, read once; this module merges them and translates."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from domain.errors import LedgerError
from domain.terms import DISTRICTS_ZH, VALUES
from domain.units import unit_of
from projections.findings.registry import RULES_BY_NAME

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

WORDS: dict[str, dict[str, Any]] = tomllib.loads(
    Path(__file__).with_name("labels.toml").read_text(encoding="utf-8"))
# The sections whose words are the pages' labels (labels.toml says what each holds).
PAGE_SECTIONS = ("page", "tranche", "change", "workplace", "bureau", "period")


def merged_labels(words: Mapping[str, Mapping[str, Sequence[str]]],
                  sections: Sequence[str]) -> dict[str, tuple[str, str]]:
    """The sections' labels as one table, key → (zh, en). A key in two sections is refused:
    which of the two a page would show is not obvious."""
    labels: dict[str, tuple[str, str]] = {}
    for section in sections:
        for key, (zh, en) in words[section].items():
            if key in labels:
                msg = f"label {key!r} stands in two sections of labels.toml ({section} is the second)"
                raise ValueError(msg)
            labels[key] = (zh, en)
    return labels


LABELS = merged_labels(WORDS, PAGE_SECTIONS)
# The findings rules (projections/findings/registry.py) in Chinese; in English, their titles.
RULE_NAMES_ZH: dict[str, str] = WORDS["rule_names_zh"]

# Values of the books and districts: domain/terms.py holds them for pages, exports and findings.
DISTRICTS: dict[str, str] = DISTRICTS_ZH
ENUMS: dict[str, tuple[str, str]] = {**VALUES, "CNY": ("元", "yuan")}


class Labels(dict[str, str]):
    """A page's labels: a key without a label shows as ⟦key⟧, visible on the page (and
    caught by the test of every page in Chinese), never as an empty cell."""

    def __missing__(self, key: str) -> str:
        return f"⟦{key}⟧"


def translate(key: str, language: str) -> str:
    """A label in the language; an unknown key shows itself (visible, never a crash)."""
    pair = LABELS.get(key) or ENUMS.get(key)
    if pair is None:
        return key
    return pair[0] if language == "zh" else pair[1]


def district_name(value: str, language: str) -> str:
    """A district as stored (pinyin, `Feng`) in the language: 丰县 in Chinese, as stored in
    English. An unknown district shows as stored."""
    return DISTRICTS.get(value, value) if language == "zh" else value


def rule_name(rule: str, language: str) -> str:
    """A findings rule's name in the language; an unknown rule shows itself."""
    if language == "zh" and rule in RULE_NAMES_ZH:
        return RULE_NAMES_ZH[rule]
    found = RULES_BY_NAME.get(rule)
    return found.title if found is not None else rule


def translate_value(value: str, language: str) -> str:
    """A value of the books (a locale, level, status, unit code or district) in the language.
    Values come before page labels: `rural` the locale is 乡村, not the page 乡村支持."""
    if value in DISTRICTS:
        return district_name(value, language)
    pair = ENUMS.get(value)
    if pair is not None:
        return pair[0] if language == "zh" else pair[1]
    if value.isupper():
        try:
            unit = unit_of(value)
        except LedgerError:
            return value
        return unit.label_zh if language == "zh" else unit.label_en
    return translate(value, language)
