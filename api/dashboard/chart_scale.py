"""A chart's value axis that stays readable when one value dwarfs the rest.

The demo's funds run from a few thousand yuan to hundreds of millions; on a linear axis every
bar but the largest is a sliver. When the largest positive value is at least `LOG_RATIO` times
the smallest, the axis becomes logarithmic: one gridline per power of ten, labelled in the
reader's units (万 / 亿 in Chinese, k / m / bn in English) and titled as a log scale, so no one
reads bar lengths as proportions. A zero has no place on a log axis: its bar is left out (the
table beside each chart has every figure)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

LOG_RATIO = 100

_ZH = ((10**8, "亿"), (10**4, "万"))
_EN = ((10**9, "bn"), (10**6, "m"), (10**3, "k"))


def compact(value: float, language: str) -> str:
    """`1.5亿` / `150m`: an axis label, never a figure to read exactly."""
    for size, suffix in _ZH if language.startswith("zh") else _EN:
        if abs(value) >= size:
            return f"{value / size:,.4g}{suffix}"
    return f"{value:,.4g}"


def needs_log(values: Iterable[float | None]) -> bool:
    positive = [v for v in values if v is not None and v > 0]
    return len(positive) > 1 and max(positive) >= LOG_RATIO * min(positive)


def value_axis(values: list[float | None], title: str, log_note: str, language: str,
               exact: Callable[[float], str]) -> dict[str, Any]:
    """pygal options for the value axis: linear with exact labels, or logarithmic with a
    gridline per power of ten and the title saying so."""
    if not needs_log(values):
        return {"title": title, "options": {"value_formatter": exact}}
    positive = [v for v in values if v is not None and v > 0]
    low, high = math.floor(math.log10(min(positive))), math.ceil(math.log10(max(positive)))
    return {"title": f"{title} · {log_note}", "options": {
        "logarithmic": True, "value_formatter": lambda v: compact(v, language),
        "y_labels": [10**k for k in range(low, high + 1)]}}
