"""Charts stay readable when one value dwarfs the rest: a log axis (one gridline per power of
ten, labelled 万/亿 or k/m/bn) with its unit in the axis title, in both languages."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from api.dashboard import charts
from api.dashboard.chart_scale import compact, needs_log
from projections.books_queries import FundTotals
from tests.dashboard.conftest import DemoServer, log_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

BAR_PX_MIN = 4  # on a linear axis a fund 1/1000th of the largest draws under a pixel


def test_the_axis_turns_logarithmic_only_when_one_value_dwarfs_the_rest() -> None:
    assert not needs_log([10.0, 999.0, None, 0])
    assert needs_log([10.0, 1000.0])
    assert not needs_log([0, 5.0])
    assert (compact(150_000_000, "zh"), compact(150_000_000, "en")) == ("1.5亿", "150m")
    assert (compact(20_000, "zh"), compact(20_000, "en")) == ("2万", "20k")


def test_the_rural_chart_has_a_unit_and_survives_an_outlier() -> None:
    locales = {"urban": "城区", "town": "镇区", "rural": "乡村"}
    even = charts.per_student_by_locale([("沛县", {"urban": 150_000, "rural": 160_000})],
                                        locales, "生均（元）", "对数刻度", "zh")
    assert "生均（元）" in even and "对数刻度" not in even
    outlier = charts.per_student_by_locale(
        [("沛县", {"urban": 150_000, "rural": 160_000}), ("丰县", {"rural": 90_000_000})],
        locales, "Per student (yuan)", "log scale", "en")
    assert "Per student (yuan) ·" in outlier and ">log scale<" in outlier  # pygal wraps the title
    assert ">1k<" in outlier and ">100k<" in outlier  # a gridline per power of ten


def test_the_fund_chart_labels_each_power_of_ten_when_one_fund_dwarfs_the_rest() -> None:
    funds = [FundTotals("A", "2025年人员经费", "CNY", "personnel", "none", 10**12, 5 * 10**11, 10**11),
             FundTotals("B", "教师培训", "CNY", "teacher_training", "none", 10**6, 5 * 10**5, 10**5)]
    labels = {"appropriated": "预算", "allocated": "已下达", "spent": "已支出",
              "axis_yuan": "金额（元）", "axis_log_scale": "对数刻度"}
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", charts.funds_bars(funds, labels, "zh"))
    assert "金额（元） · 对数刻度" in texts
    assert {"1万", "1亿", "100亿"} <= set(texts)
    even = [FundTotals("A", "甲", "CNY", "personnel", "none", 10**8, 10**7, 10**7)] * 2
    assert "对数刻度" not in charts.funds_bars(even, labels, "zh")


@pytest.mark.parametrize(("language", "title", "units"), [
    ("zh", "金额（元） · 对数刻度", ("万", "亿")),
    ("en", "Amount (yuan) · log scale", ("k", "m")),
])
def test_the_overview_draws_every_fund_on_a_log_axis(page: Page, demo_server: DemoServer,
                                                     language: str, title: str,
                                                     units: tuple[str, ...]) -> None:
    log_in(page, demo_server)
    page.goto(f"{demo_server.url}/dashboard/lang/{language}?next=/dashboard")
    chart = page.locator("#funds-chart svg")
    texts = chart.locator("text").all_text_contents()
    assert title in " ".join(texts)
    labels = [t for t in texts if re.fullmatch(r"[\d.,]+(万|亿|k|m|bn)?", t)]
    assert any(label.endswith(units) for label in labels), labels
    # Every fund's appropriation is a bar one can see, however small beside the largest.
    widths = page.eval_on_selector_all(
        "#funds-chart svg .serie-0 rect", "rects => rects.map(r => r.getBBox().width)")
    assert len(widths) >= 5 and min(widths) >= BAR_PX_MIN, widths
    page.goto(f"{demo_server.url}/dashboard/rural")
    axis = page.locator("#per-student-chart svg text").all_text_contents()
    assert ("生均（元）" if language == "zh" else "Per student (yuan)") in " ".join(axis)
