"""Charts drawn on the server as SVG with pygal: no script, nothing fetched by the browser.

pygal's own tooltips load a script from the web by default; `js=[]` turns that off.
"""

from __future__ import annotations

from collections.abc import Sequence

import pygal
from pygal.style import Style

from api.dashboard.reads import FundTotals

STYLE = Style(background="transparent", plot_background="transparent", font_family="sans-serif",
              colors=("#9aa5b1", "#2f6fdf", "#e8871e", "#3d9a50", "#c0392b"),
              label_font_size=11, major_label_font_size=11, legend_font_size=12)
CHART_WIDTH = 900
BARS_SHOWN_MAX = 30


def _yuan(minor: int) -> float:
    """For drawing only: a bar's length in yuan. Never used for arithmetic."""
    return minor / 100


def _render(chart: pygal.graph.graph.Graph) -> str:
    svg = chart.render(is_unicode=True)
    return svg if isinstance(svg, str) else svg.decode("utf-8")


def funds_bars(funds: Sequence[FundTotals], labels: dict[str, str]) -> str:
    """Appropriated, allocated and spent per fund (yuan funds; the largest first)."""
    shown = sorted((f for f in funds if f.unit == "CNY"), key=lambda f: -f.appropriated)
    shown = shown[:BARS_SHOWN_MAX]
    chart = pygal.HorizontalBar(style=STYLE, width=CHART_WIDTH, height=max(240, 34 * len(shown) + 80),
                                js=[], disable_xml_declaration=True, legend_at_bottom=True,
                                truncate_label=40, value_formatter=lambda v: f"{v:,.2f}")
    chart.x_labels = [f.name for f in reversed(shown)]
    chart.add(labels["appropriated"], [_yuan(f.appropriated) for f in reversed(shown)])
    chart.add(labels["allocated"], [_yuan(f.allocated) for f in reversed(shown)])
    chart.add(labels["spent"], [_yuan(f.spent) for f in reversed(shown)])
    return _render(chart)


def burn_down(months: Sequence[tuple[str, int, int]], labels: dict[str, str]) -> str:
    """Allocated, spent and the unspent remainder at each month's end (yuan)."""
    chart = pygal.Line(style=STYLE, width=CHART_WIDTH, height=320, js=[],
                       disable_xml_declaration=True, legend_at_bottom=True, fill=False,
                       value_formatter=lambda v: f"{v:,.0f}")
    chart.x_labels = [m[5:] for m, _, _ in months]
    chart.add(labels["allocated"], [_yuan(a) for _, a, _ in months])
    chart.add(labels["spent"], [_yuan(s) for _, _, s in months])
    chart.add(labels["remaining"], [_yuan(a - s) for _, a, s in months])
    return _render(chart)


def per_student_by_locale(rows: Sequence[tuple[str, dict[str, int | None]]],
                          locale_labels: dict[str, str]) -> str:
    """Per-student yuan allocated, by district, one bar per locale."""
    chart = pygal.Bar(style=STYLE, width=CHART_WIDTH, height=340, js=[],
                      disable_xml_declaration=True, legend_at_bottom=True, x_label_rotation=20,
                      value_formatter=lambda v: f"{v:,.2f}")
    chart.x_labels = [district for district, _ in rows]
    for locale in ("urban", "town", "rural"):
        chart.add(locale_labels[locale], [
            None if values.get(locale) is None else _yuan(values[locale] or 0)
            for _, values in rows])
    return _render(chart)
