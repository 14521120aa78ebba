"""The dashboard's words without a browser: every district the generator writes has its
Chinese name, every findings rule its Chinese title, and a value shows in the page's language."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.dashboard.i18n import (
    DISTRICTS,
    LABELS,
    RULE_NAMES_ZH,
    district_name,
    merged_labels,
    rule_name,
    translate_value,
)
from projections.findings.registry import RULES
from scripts.generator.geography import PRESETS


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_district_of_every_preset_has_its_chinese_name(preset: str) -> None:
    """The districts schools are written with: a city bureau's county-level units, or the
    district bureau itself (Laishan's 街道 only name its schools)."""
    bureau = PRESETS[preset]
    if bureau.county_unit is not None:
        assert DISTRICTS.get(bureau.county_unit) == "莱山区"
        return
    for district in bureau.districts:
        assert DISTRICTS.get(district.name) == district.name_zh, district.name


def test_xuzhou_counties_and_districts_in_chinese() -> None:
    shown = {name: translate_value(name, "zh") for name in ("Feng", "Pei", "Suining", "Xinyi",
                                                            "Pizhou", "Gulou", "Tongshan")}
    assert shown == {"Feng": "丰县", "Pei": "沛县", "Suining": "睢宁县", "Xinyi": "新沂市",
                     "Pizhou": "邳州市", "Gulou": "鼓楼区", "Tongshan": "铜山区"}
    assert translate_value("Feng", "en") == "Feng"  # English shows the stored pinyin
    assert district_name("Nowhere", "zh") == "Nowhere"  # unknown: as stored, never a crash
    assert translate_value("rural", "zh") == "乡村"  # a locale is still a locale


def test_every_findings_rule_has_a_title_in_both_languages() -> None:
    assert set(RULE_NAMES_ZH) == {rule.name for rule in RULES}
    for rule in RULES:
        assert rule_name(rule.name, "en") == rule.title
        assert any(ord(c) > 0x2E80 for c in rule_name(rule.name, "zh")), rule.name


def test_every_refusal_of_the_books_has_a_chinese_title() -> None:
    import api.app  # noqa: F401, PLC0415  (every module, so every error class, loaded)
    from api.dashboard.pages import ERROR_TITLES_EN, _error_titles  # noqa: PLC0415
    from domain.terms import ERRORS_ZH, error_title  # noqa: PLC0415

    every = _error_titles()  # walked now: whichever modules were imported first
    assert not set(every) - set(ERRORS_ZH), sorted(set(every) - set(ERRORS_ZH))
    assert error_title("overspend", ERROR_TITLES_EN["overspend"], "zh") == "支出超过拨款余额"
    assert error_title("overspend", ERROR_TITLES_EN["overspend"], "en") == ERROR_TITLES_EN["overspend"]


def test_every_rule_parameter_has_a_name_in_both_languages_and_money_shows_in_yuan() -> None:
    from api.dashboard.rule_params import PARAM_NAMES, param_text  # noqa: PLC0415

    used = {name for rule in RULES for name in rule.params}
    assert not used - set(PARAM_NAMES), sorted(used - set(PARAM_NAMES))
    assert param_text("round_unit_fen", 1_000_000, "zh") == ("整数金额单位", "10,000.00 元")
    threshold = param_text("procurement_threshold_fen", 10_000_000, "en")
    assert threshold == ("procurement threshold", "¥100,000.00")
    assert param_text("window_days", 30, "en") == ("window (days)", "30")


_keys = st.text(alphabet="abcdefghij_", min_size=1, max_size=4)
_pairs = st.tuples(st.text(min_size=1, max_size=3), st.text(min_size=1, max_size=3))


@given(st.lists(st.dictionaries(_keys, _pairs, max_size=6), min_size=1, max_size=4))
def test_label_sections_merge_into_one_table_and_a_key_in_two_is_refused(
        sections: list[dict[str, tuple[str, str]]]) -> None:
    """labels.toml's page sections are one table: merged as they are when their keys are
    apart, refused when a key stands in two (which words a page shows would depend on order)."""
    words = {f"s{i}": {key: list(pair) for key, pair in section.items()}
             for i, section in enumerate(sections)}
    keys = [key for section in sections for key in section]
    if len(keys) == len(set(keys)):
        merged = merged_labels(words, list(words))
        assert merged == {key: pair for section in sections for key, pair in section.items()}
    else:
        with pytest.raises(ValueError, match="two sections"):
            merged_labels(words, list(words))


def test_every_page_label_is_a_chinese_and_an_english_text() -> None:
    assert len(LABELS) > 300  # the file was read, every section of it
    for key, (zh, en) in LABELS.items():
        assert zh.strip() and en.strip(), key
