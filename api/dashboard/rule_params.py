"""The findings rules' parameters as the findings page shows them: named in the page's
language, money (a name in `fen` or `_minor`) in yuan through the one formatting function.
The API and the rule code keep the machine names and the integers."""

from __future__ import annotations

from typing import Any

from api.dashboard.i18n import WORDS
from domain.units import money_text

PARAM_NAMES: dict[str, tuple[str, str]] = {
    name: (zh, en) for name, (zh, en) in WORDS["rule_params"].items()}


def is_money(name: str) -> bool:
    return "fen" in name.split("_") or name.endswith("_minor")


def param_text(name: str, value: Any, language: str) -> tuple[str, str]:
    """(name, value) as the page shows them; an unknown name shows itself."""
    zh, en = PARAM_NAMES.get(name, (name, name))
    if is_money(name) and type(value) is int:
        shown = money_text(value, "CNY", language)
    elif isinstance(value, tuple | list):
        shown = ", ".join(map(str, value)) or "—"
    else:
        shown = str(value)
    return (zh if language == "zh" else en), shown
