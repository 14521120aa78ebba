"""Presets as bureaus (issue 15): Xuzhou is a city bureau over its ten county-level bureaus,
each generating its own schools and funds; Laishan is one district bureau under Yantai."""

from __future__ import annotations

import pytest

from scripts.generator import plan_year
from scripts.generator.geography import PRESETS, bureau_plan, preset_named


def test_xuzhou_is_a_city_over_its_ten_county_level_bureaus() -> None:
    plan = bureau_plan("xuzhou")
    assert (plan.city_code, plan.city_name) == ("XZ", "徐州市教育局")
    assert [code for code, _, _ in plan.counties] == [
        "XZ-GL", "XZ-YL", "XZ-QS", "XZ-TS", "XZ-JW", "XZ-FX", "XZ-PX", "XZ-SN", "XZ-XY", "XZ-PZ"]
    assert ("XZ-TS", "铜山区教育局", "xuzhou:Tongshan") in plan.counties
    # The counties share out the city's schools as the city's own draw does.
    assert abs(sum(preset_named(p).schools for _, _, p in plan.counties) - PRESETS["xuzhou"].schools) <= 5


def test_laishan_is_one_district_bureau_under_yantai() -> None:
    plan = bureau_plan("laishan")
    assert plan.city_code == "YT"
    assert plan.counties == (("YT-LS", "莱山区教育和体育局", "laishan"),)


def test_a_county_generates_only_its_own_schools_and_funds() -> None:
    year = plan_year(preset="xuzhou:Pei", seed=7, fiscal_year=2025, scale=0.1)
    assert year.schools
    assert {s.district for s in year.schools} == {"Pei"}
    assert all(s.code.startswith("XZ-PX-") for s in year.schools)
    sources = {c.args["source"] for c in year.commands if c.kind == "open_fund"}
    assert {"central", "provincial"} <= sources  # transfers from above, in the county's books


def test_unknown_counties_and_nested_presets_are_refused() -> None:
    with pytest.raises(ValueError, match="no county-level unit"):
        preset_named("xuzhou:Nowhere")
    with pytest.raises(ValueError, match="already one county-level unit"):
        preset_named("laishan:Laishan")
    with pytest.raises(ValueError, match="unknown preset"):
        preset_named("nanjing:Gulou")
