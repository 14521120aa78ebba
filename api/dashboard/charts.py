"""Charts drawn on the server as SVG with pygal: no script, nothing fetched by the browser.

pygal's own tooltips load a script from the web by default; `js=[]` turns that off.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import pygal
from pygal.style import Style

from api.dashboard.chart_scale import value_axis
from projections.books_queries import FundTotals

# One colour per meaning on every chart: appropriated grey, allocated blue, spent orange,
# remaining green.
GREY, BLUE, ORANGE, GREEN = "#9aa5b1", "#2f6fdf", "#e8871e", "#3d9a50"
LABEL_FONT_SIZE = 11
MARGIN = 20
FONTS = '"Noto Sans CJK SC", "WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei", sans-serif'


def _style(*colors: str) -> Style:
    return Style(background="transparent", plot_background="transparent", font_family=FONTS,
                 colors=colors, label_font_size=LABEL_FONT_SIZE,
                 major_label_font_size=LABEL_FONT_SIZE,
                 legend_font_size=12)


CHART_WIDTH = 900
BARS_SHOWN_MAX = 30
FUND_LABEL_CHARS_MAX = 14  # pygal measures CJK text narrower than it draws: keep names short


def _wide_text_shortfall(labels: Sequence[str]) -> int:
    """pygal sizes a label as 0.6 em a character; a Chinese character takes a whole em. The
    pixels it misses on the widest label, to add to the chart's margin."""
    wide = max((sum(1 for c in label if ord(c) > 0x2E80) for label in labels), default=0)
    return math.ceil(0.45 * LABEL_FONT_SIZE * wide)


def _short(name: str) -> str:
    """A fund's name for a chart's axis: without its leading year (`2025年…`), cut short."""
    head, mark, rest = name.partition("年")
    if mark and head.isdigit() and rest:
        name = rest
    return name if len(name) <= FUND_LABEL_CHARS_MAX else name[:FUND_LABEL_CHARS_MAX - 1] + "…"


def _yuan(minor: int) -> float:
    """For drawing only: a bar's length in yuan. Never used for arithmetic."""
    return minor / 100


def _render(chart: pygal.graph.graph.Graph) -> str:
    svg = chart.render(is_unicode=True)
    svg = svg if isinstance(svg, str) else svg.decode("utf-8")
    # pygal writes an inline configuration script even with js=[] (no script reads it); the
    # dashboard's Content-Security-Policy allows no inline script, so it is left out.
    return _INLINE_SCRIPT.sub("", svg)


_INLINE_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL | re.IGNORECASE)


def funds_bars(funds: Sequence[FundTotals], labels: dict[str, str], language: str = "zh") -> str:
    """Appropriated, allocated and spent per fund (yuan funds; the largest first), on a log
    axis when one fund dwarfs the rest (api/dashboard/chart_scale.py)."""
    shown = sorted((f for f in funds if f.unit == "CNY"), key=lambda f: -f.appropriated)
    shown = shown[:BARS_SHOWN_MAX]
    names = [_short(f.name) for f in reversed(shown)]
    series = [(labels[key], [_yuan(getattr(f, key)) for f in reversed(shown)])
              for key in ("appropriated", "allocated", "spent")]
    axis = value_axis([v for _, values in series for v in values], labels["axis_yuan"],
                      labels["axis_log_scale"], language, lambda v: f"{v:,.0f}")
    if "logarithmic" not in axis["options"]:  # a log axis labels every power of ten instead
        axis["options"] |= {"x_labels_major_count": 6, "show_minor_x_labels": False}
    chart = pygal.HorizontalBar(style=_style(GREY, BLUE, ORANGE), width=CHART_WIDTH,
                                height=max(240, 34 * len(shown) + 80), js=[],
                                disable_xml_declaration=True, legend_at_bottom=True,
                                legend_at_bottom_columns=3, truncate_label=-1,
                                margin_left=MARGIN + _wide_text_shortfall(names),
                                x_title=axis["title"], **axis["options"])
    chart.x_labels = names
    for title, values in series:
        chart.add(title, values)
    return _render(chart)


def burn_down(months: Sequence[tuple[str, int, int]], labels: dict[str, str]) -> str:
    """Allocated, spent and the unspent remainder at each month's end (yuan)."""
    chart = pygal.Line(style=_style(BLUE, ORANGE, GREEN), width=CHART_WIDTH, height=320, js=[],
                       disable_xml_declaration=True, legend_at_bottom=True,
                       legend_at_bottom_columns=3, fill=False, y_title=labels["axis_yuan"],
                       value_formatter=lambda v: f"{v:,.0f}")
    chart.x_labels = [m[5:] for m, _, _ in months]
    chart.add(labels["allocated"], [_yuan(a) for _, a, _ in months])
    chart.add(labels["spent"], [_yuan(s) for _, _, s in months])
    chart.add(labels["remaining"], [_yuan(a - s) for _, a, s in months])
    return _render(chart)


def per_student_by_locale(rows: Sequence[tuple[str, dict[str, int | None]]],
                          locale_labels: dict[str, str], axis_title: str = "",
                          log_note: str = "log scale", language: str = "zh") -> str:
    """Per-student yuan allocated, by district, one bar per locale; the y axis titled with
    its unit, logarithmic when one district's figure dwarfs the rest."""
    series = [(locale_labels[locale], [
        None if values.get(locale) is None else _yuan(values[locale] or 0) for _, values in rows])
        for locale in ("urban", "town", "rural")]
    axis = value_axis([v for _, values in series for v in values], axis_title, log_note,
                      language, lambda v: f"{v:,.2f}")
    chart = pygal.Bar(style=_style("#2f6fdf", "#8e6bd1", "#3d9a50"), width=CHART_WIDTH,
                      height=340, js=[], disable_xml_declaration=True, legend_at_bottom=True,
                      legend_at_bottom_columns=3, x_label_rotation=20, y_title=axis["title"],
                      **axis["options"])
    chart.x_labels = [district for district, _ in rows]
    for title, values in series:
        chart.add(title, values)
    return _render(chart)
