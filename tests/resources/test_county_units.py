"""The unit of the evaluation is the county-level bureau's area: a district bureau's 街道 are
never put in its place (Laishan is itself the county-level unit)."""

from __future__ import annotations

import random

from scripts.generator import plan_year
from scripts.generator.geography import PRESETS
from scripts.generator.schools import draw_schools


def test_every_laishan_school_belongs_to_laishan_not_to_a_sub_district() -> None:
    schools = draw_schools(PRESETS["laishan"], 1.0, random.Random(3))
    assert {s.district for s in schools} == {"Laishan"}
    assert len({s.area for s in schools}) >= 5  # the 街道 still name the schools


def test_xuzhou_schools_belong_to_its_ten_county_level_units() -> None:
    schools = draw_schools(PRESETS["xuzhou"], 0.1, random.Random(3))
    assert {s.district for s in schools} == {d.name for d in PRESETS["xuzhou"].districts}


def test_the_generated_year_sets_up_posts_and_stocks_for_each_county_level_unit() -> None:
    plan = plan_year(preset="laishan", seed=7, scale=1.0)
    totals = [c for c in plan.commands if c.kind == "approve_post_total"]
    assert [c.args["district"] for c in totals] == ["Laishan"]
    compulsory = {s.code for s in plan.schools if s.level in ("primary", "junior", "nine_year")}
    reported = {c.args["school"] for c in plan.commands if c.kind == "report_indicators"}
    assert compulsory <= reported
    assert all(c.args["figures"]["teaching_area_m2"] > 0 for c in plan.commands
               if c.kind == "report_indicators")
