"""The bureau's schools: how many of each level, where, how urban, how large, and their names.

Counts by level follow the preset's proportions; districts get schools in proportion to
population × how rural they are (rural schools are smaller, so there are more of them per
head); each school's locale is drawn from its district's shares; enrolment is lognormal per
level and locale (reference/domain.md §(c)). Rural primary medians are calibrated so that
about half of primary schools but only about a quarter to a third of primary pupils are rural.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass
from typing import ClassVar

from scripts.generator.geography import District, Preset

LOCALES = ("urban", "town", "rural")
COMPULSORY_LEVELS = ("primary", "junior", "nine_year")

# (median pupils, 5th percentile, 95th percentile) per level and locale. Primary and junior
# follow §(c); rural primary is raised from 250 to meet the calibration rule above (it
# would give only ~15% rural pupils); the other levels are inference.
ENROLMENT: dict[tuple[str, str], tuple[int, int, int]] = {
    ("primary", "urban"): (1_500, 600, 3_600),
    ("primary", "town"): (850, 300, 2_000),
    ("primary", "rural"): (520, 130, 1_100),
    ("junior", "urban"): (1_600, 700, 3_200),
    ("junior", "town"): (1_200, 450, 2_500),
    ("junior", "rural"): (500, 180, 1_100),
    ("nine_year", "urban"): (1_800, 800, 3_500),
    ("nine_year", "town"): (1_100, 400, 2_200),
    ("nine_year", "rural"): (550, 200, 1_200),
    ("kindergarten", "urban"): (320, 120, 700),
    ("kindergarten", "town"): (240, 90, 500),
    ("kindergarten", "rural"): (120, 40, 300),
    ("senior", "urban"): (2_400, 1_000, 4_500),
    ("senior", "town"): (1_800, 800, 3_500),
    ("senior", "rural"): (1_200, 600, 2_500),
    ("complete", "urban"): (2_000, 900, 3_800),
    ("complete", "town"): (1_500, 700, 3_000),
    ("complete", "rural"): (1_000, 500, 2_000),
    ("vocational", "urban"): (2_600, 900, 6_000),
    ("vocational", "town"): (1_800, 700, 4_000),
    ("vocational", "rural"): (1_200, 500, 3_000),
    ("special", "urban"): (160, 60, 350),
    ("special", "town"): (110, 40, 250),
    ("special", "rural"): (80, 30, 180),
    ("college", "urban"): (8_000, 3_000, 15_000),
    ("college", "town"): (5_000, 2_000, 10_000),
    ("college", "rural"): (4_000, 2_000, 8_000),
    ("adult", "urban"): (1_200, 300, 4_000),
    ("adult", "town"): (800, 200, 2_500),
    ("adult", "rural"): (500, 150, 1_500),
}
TEACHING_POINT_PERCENT_OF_RURAL_PRIMARY = 12  # 教学点, under 100 pupils (§(c): 10–15%)
TEACHING_POINT_PUPILS = (15, 99)
# Pupils per teacher after the 2015 unification (§2.3, §(c)); kindergartens and others inferred.
PUPILS_PER_TEACHER = {"primary": 19.0, "junior": 13.5, "nine_year": 16.0, "senior": 12.5,
                      "complete": 13.0, "kindergarten": 15.0, "vocational": 18.0, "special": 4.0,
                      "college": 17.0, "adult": 30.0}
POVERTY_PERCENT = {"urban": 0.3, "town": 0.5}  # rural: the district's own share
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"  # noqa: E501
_VILLAGE_SUFFIXES = ("庄", "楼", "集", "庙", "圩", "湖", "店", "营", "屯", "桥", "寨", "口", "洼", "场")
_ROADS = ("民主路", "解放路", "淮海路", "中山路", "建国路", "复兴路", "和平路", "人民路", "黄河路",
          "青年路", "大学路", "新城区", "星光", "风华", "云兴", "湖滨", "泉润", "汉风", "彭祖",
          "育才", "实验", "开元", "金山", "奎园", "西苑", "东苑", "南湖", "北湖")


@dataclass(frozen=True)
class SchoolPlan:
    code: str
    name: str
    district: str
    level: str
    locale: str
    poverty_area: bool
    students: int
    teachers: int
    remoteness_percent: int  # 0 for urban; higher the further from the county seat
    teaching_point: bool = False
    area: str = ""  # the 街道 or county it stands in (names, payees); the district if empty

    @property
    def area_name(self) -> str:
        return self.area or self.district

    @property
    def compulsory(self) -> bool:
        return self.level in COMPULSORY_LEVELS


def level_counts(preset: Preset, total: int) -> dict[str, int]:
    """Schools per level at this size, by largest remainder so the counts add up to `total`;
    nine-year schools are a share of the junior-level units."""
    shares = dict(preset.level_percent)
    raw = {level: total * share / sum(shares.values()) for level, share in shares.items()}
    counts = {level: int(value) for level, value in raw.items()}
    short = total - sum(counts.values())
    for level in sorted(raw, key=lambda lv: raw[lv] - counts[lv], reverse=True)[:short]:
        counts[level] += 1
    junior_units = counts.pop("junior")
    counts["nine_year"] = junior_units * preset.nine_year_share_of_junior_percent // 100
    counts["junior"] = junior_units - counts["nine_year"]
    senior_units = counts.pop("senior")
    counts["complete"] = senior_units // 6  # 完全中学: junior and senior in one school
    counts["senior"] = senior_units - counts["complete"]
    return {level: n for level, n in counts.items() if n > 0}


def draw_schools(preset: Preset, scale: float, rng: random.Random) -> list[SchoolPlan]:
    """Stratified: each level's schools are apportioned to (district, locale) cells by
    largest remainder, so that even a small scale keeps the preset's proportions."""
    total = max(len(preset.districts), round(preset.schools * scale))
    namer = _Namer(preset, rng)
    serial: Counter[str] = Counter()
    schools: list[SchoolPlan] = []
    for level, count in sorted(level_counts(preset, total).items()):
        cells = _cells(preset, level, count, rng)
        rng.shuffle(cells)
        for district, locale in cells:
            teaching_point = (level == "primary" and locale == "rural"
                              and rng.randrange(100) < TEACHING_POINT_PERCENT_OF_RURAL_PRIMARY)
            students = (rng.randint(*TEACHING_POINT_PUPILS) if teaching_point
                        else _enrolment(level, locale, rng))
            poverty_percent = (district.poverty_percent_rural if locale == "rural"
                               else POVERTY_PERCENT[locale] if district.poverty_percent_rural else 0)
            poverty = rng.random() * 100 < poverty_percent
            serial[district.abbreviation] += 1
            code = f"{preset.code_prefix}-{district.abbreviation}-{serial[district.abbreviation]:04d}"
            remoteness = 0 if locale == "urban" else rng.randint(10, 60) if locale == "town" \
                else rng.randint(40, 100)
            teachers = max(2, round(students / PUPILS_PER_TEACHER[level] * rng.uniform(0.85, 1.15)))
            schools.append(SchoolPlan(
                code=code, name=namer.name(district, level, locale, teaching_point),
                district=preset.county_unit or district.name, level=level, locale=locale,
                poverty_area=poverty, area=district.name,
                students=students, teachers=teachers, remoteness_percent=remoteness,
                teaching_point=teaching_point))
    schools.sort(key=lambda s: s.code)
    return schools


def _cells(preset: Preset, level: str, count: int, rng: random.Random) -> list[tuple[District, str]]:
    weights: dict[tuple[District, str], float] = {}
    for district in preset.districts:
        size = district.population * district.schools_per_head_factor
        for locale, share in zip(LOCALES, _locale_shares(district, level), strict=True):
            if share:
                weights[(district, locale)] = size * share
    scale = count / sum(weights.values())
    exact = {cell: w * scale for cell, w in weights.items()}
    counts = {cell: int(x) for cell, x in exact.items()}
    # Ties broken at random, so that small bureaus do not always favour the first district.
    by_remainder = sorted(exact, key=lambda c: (exact[c] - counts[c], rng.random()), reverse=True)
    for cell in by_remainder[: count - sum(counts.values())]:
        counts[cell] += 1
    return [cell for cell, n in counts.items() for _ in range(n)]


def _locale_shares(district: District, level: str) -> tuple[int, int, int]:
    if level in ("college", "adult", "special", "vocational"):
        # Colleges, adult, special and vocational schools sit in the city or the county seat.
        return (1, 0, 0) if district.locale_shares_percent[0] or level == "college" else (0, 1, 0)
    return district.locale_shares_percent


def _enrolment(level: str, locale: str, rng: random.Random) -> int:
    """Lognormal around the median, its 5th–95th percentiles on the table's range; clipped to
    half the low end and one and a half the high end so no draw is absurd."""
    median, low, high = ENROLMENT[(level, locale)]
    sigma = math.log(high / low) / (2 * 1.645)
    drawn = rng.lognormvariate(math.log(median), sigma)
    return max(low // 2, min(high * 3 // 2, round(drawn)))


class _Namer:
    """Plausible Chinese school names, unique within the bureau: 铜山区柳新镇中心小学."""

    _LEVEL_WORDS: ClassVar[dict[str, str]] = {
                    "primary": "小学", "junior": "中学", "nine_year": "学校", "kindergarten": "幼儿园",
                    "senior": "高级中学", "complete": "中学", "special": "特殊教育学校",
                    "vocational": "中等专业学校", "college": "职业技术学院", "adult": "开放大学"}

    def __init__(self, preset: Preset, rng: random.Random) -> None:
        self.preset = preset
        self.rng = rng
        self.used: set[str] = set()
        self.central: set[tuple[str, str]] = set()  # (town, level) with its 中心 school

    def name(self, district: District, level: str, locale: str, teaching_point: bool) -> str:
        candidates: list[str] = []
        for _ in range(8):  # another village or street usually gives a free name
            candidates = self._candidates(district, level, locale, teaching_point)
            for candidate in candidates:
                if candidate not in self.used:
                    self.used.add(candidate)
                    return candidate
        n = 2
        while f"{candidates[0]}（{n}）" in self.used:
            n += 1
        self.used.add(f"{candidates[0]}（{n}）")
        return f"{candidates[0]}（{n}）"

    def _candidates(self, district: District, level: str, locale: str,
                    teaching_point: bool) -> list[str]:
        city = self.preset.city_zh
        county = district.name_zh
        # A district bureau's 街道 are not part of school names: 烟台市莱山区迎春大街小学.
        by_county = self.preset.name == "xuzhou"
        word = self._LEVEL_WORDS[level]
        rng = self.rng
        if level in ("college", "adult"):
            candidates = [f"{city[:2]}{x}{word}" for x in ("工业", "幼儿师范", "生物工程", "财经", "城市")]
            candidates = [f"{city[:2]}幼儿师范高等专科学校", *candidates] if level == "college" else \
                [f"{city}{county}社区教育中心", f"{city[:2]}{word}"]
        elif level in ("special", "vocational"):
            extra = "职业教育中心" if level == "vocational" else "启智学校"
            candidates = [f"{city}{county}{word}", f"{county}{extra}", f"{city}{county}第二{word}"] \
                if by_county else [f"{city}{word}", f"{city}{extra}"]
        elif level in ("senior", "complete"):
            ordinal = "一二三四五六七八九十"
            candidates = [f"{city}{county}第{ordinal[rng.randrange(10)]}中学" for _ in range(3)]
            if locale != "urban" and district.towns:
                candidates.insert(0, f"{county}{rng.choice(district.towns)}{word}")
        elif locale == "urban" or not district.towns:
            place = rng.choice(district.streets + _ROADS)
            kind = "实验" if rng.random() < 0.15 else ""
            word = {"junior": "初级中学", "nine_year": "实验学校"}.get(level, word)
            county_ = county if by_county else ""
            candidates = [f"{city}{county_}{place}{kind}{word}", f"{city}{county_}{place}第二{word}",
                          f"{city}{place}{word}"]
        else:
            town = rng.choice(district.towns)
            village = rng.choice(_SURNAMES) + rng.choice(_VILLAGE_SUFFIXES) if by_county else ""
            town_word = "镇" if by_county else ""
            if teaching_point:
                candidates = [f"{county}{town}{town_word}{village}教学点"]
            elif locale == "town" and (town, level) not in self.central:
                self.central.add((town, level))
                candidates = [f"{county}{town}{town_word}中心{word}"]
            elif level == "nine_year":
                candidates = [f"{county}{town}{town_word}{village}九年制学校"]
            else:
                candidates = [f"{county}{town}{town_word}{village}{word}",
                              f"{county}{town}{town_word}第二{word}"]
        return candidates
