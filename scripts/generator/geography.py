"""The bureaus the generator can imitate: their districts or sub-districts, how urban each is,
and the towns and streets their schools are named after (reference/domain.md §5.1, §5.2).

Populations are the 2020 census or the approximate figures of §5.1/§5.2. Locale shares follow
§(c): central districts all 城区; Tongshan and Jiawang 30/30/40; counties and county-level
cities 15/30/55 (urban/town/rural). Town lists start with the towns §5.1 cites; the rest of
each list, the street lists and Laishan's shares are inference, good enough for names.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class District:
    """A county-level unit, or for a district bureau one of its 街道: an area that gives its
    schools their locale shares and names. The unit a school belongs to (its `district`
    field, and the unit of the balanced-development evaluation) is the county-level one."""

    name: str  # the district field of a school, e.g. "Tongshan"
    name_zh: str  # 铜山区
    abbreviation: str  # the middle of a school code: XZ-TS-0042
    population: int
    locale_shares_percent: tuple[int, int, int]  # urban, town, rural
    # Rural districts have more, smaller schools per head: school count ∝ population × this.
    schools_per_head_factor: float
    streets: tuple[str, ...]  # 街道: urban schools are named after them
    towns: tuple[str, ...]  # 镇: town and rural schools are named after them
    poverty_percent_rural: int = 0  # chance that a rural school lies in a poverty area


@dataclass(frozen=True)
class Preset:
    """A bureau: its districts, its size, its name in codes, and its level mix."""

    name: str
    city_zh: str  # 徐州市
    code_prefix: str  # XZ
    schools: int  # at scale 1
    districts: tuple[District, ...]
    level_percent: dict[str, float]
    heating: bool  # north of the heating line: schools buy heat in winter
    nine_year_share_of_junior_percent: int = 15
    # A district bureau is itself one county-level unit: its schools all belong to it, whatever
    # 街道 they stand in (None: each of `districts` is a county-level unit of a city bureau).
    county_unit: str | None = None


_CORE = (100, 0, 0)
_MIXED = (30, 30, 40)
_COUNTY = (15, 30, 55)

XUZHOU_DISTRICTS = (
    District("Gulou", "鼓楼区", "GL", 425_143, _CORE, 1.0,
             ("丰财", "牌楼", "琵琶", "环城", "黄楼", "铜沛", "九里", "拾屯"), ()),
    District("Yunlong", "云龙区", "YL", 380_000, _CORE, 1.0,
             ("彭城", "子房", "黄山", "骆驼山", "大郭庄", "翠屏山", "潘塘"), ()),
    District("Quanshan", "泉山区", "QS", 620_000, _CORE, 1.0,
             ("王陵", "永安", "湖滨", "段庄", "翟山", "奎山", "和平", "泰山", "金山", "七里沟"), ()),
    District("Tongshan", "铜山区", "TS", 1_330_000, _MIXED, 1.5,
             ("铜山", "三堡", "利国", "新区", "沿湖"),
             ("柳新", "刘集", "大彭", "汉王", "棠张", "张集", "房村", "伊庄", "单集", "徐庄",
              "大许", "茅村", "柳泉", "何桥", "黄集", "马坡", "郑集"), 3),
    District("Jiawang", "贾汪区", "JW", 510_000, _MIXED, 1.5,
             ("老矿", "大泉", "工业园"), ("大吴", "青山泉", "紫庄", "塔山", "汴塘", "江庄"), 5),
    District("Feng", "丰县", "FX", 1_000_000, _COUNTY, 1.9,
             ("凤城", "中阳里", "孙楼"),
             ("首羡", "顺河", "常店", "欢口", "师寨", "华山", "梁寨", "范楼", "宋楼", "王沟",
              "赵庄", "大沙河"), 8),
    District("Pei", "沛县", "PX", 1_200_000, _COUNTY, 1.9,
             ("沛城", "汉源", "汉兴", "大屯"),
             ("朱寨", "安国", "鹿楼", "张寨", "沙河", "龙固", "杨屯", "胡寨", "魏庙", "五段",
              "张庄", "栖山", "敬安"), 6),
    District("Suining", "睢宁县", "SN", 1_088_553, _COUNTY, 1.9,
             ("睢城", "金城", "睢河"),
             ("梁集", "凌城", "双沟", "王集", "古邳", "姚集", "魏集", "岚山", "李集", "桃园",
              "官山", "高作", "沙集", "邱集", "庆安"), 9),
    District("Xinyi", "新沂市", "XY", 969_922, _COUNTY, 1.9,
             ("新安", "北沟", "唐店"),
             ("合沟", "瓦窑", "窑湾", "棋盘", "马陵山", "新店", "邵店", "双塘", "高流", "阿湖",
              "草桥", "时集", "港头"), 6),
    District("Pizhou", "邳州市", "PZ", 1_462_563, _COUNTY, 1.9,
             ("运河", "东湖", "戴圩", "议堂"),
             ("官湖", "邳城", "铁富", "邹庄", "新河", "戴庄", "八义集", "土山", "碾庄", "港上",
              "岔河", "陈楼", "四户", "宿羊山", "车辐山", "燕子埠", "赵墩", "占城"), 7),
)

# Laishan's units are 街道, so their towns are the larger villages (inference, §5.2).
LAISHAN_DISTRICTS = (
    District("Huanghailu", "黄海路街道", "HH", 70_000, (100, 0, 0), 0.8,
             ("黄海路", "迎春大街", "观海路", "港城东大街"), ()),
    District("Chujia", "初家街道", "CJ", 26_000, (70, 30, 0), 1.1,
             ("初家", "盛泉", "山海路"), ("南涧", "十里堡")),
    District("Binhailu", "滨海路街道", "BH", 28_200, (80, 20, 0), 1.1,
             ("滨海路", "东方海天", "逛荡河"), ("东泊子", "西泊子")),
    District("Xiejiazhuang", "解甲庄街道", "XJ", 32_900, (10, 35, 55), 1.8,
             ("解甲庄",), ("孙家滩", "北寨", "东留公", "西留公", "辛庄")),
    District("Laishan", "莱山街道", "LS", 28_000, (50, 30, 20), 1.5,
             ("莱山", "机场路"), ("上夼", "下夼", "马山寨", "朱柳")),
    District("Yuangezhuang", "院格庄街道", "YG", 18_900, (0, 30, 70), 2.2,
             ("院格庄",), ("曲家庄", "王家庄", "于家滩", "西马家都", "泊子")),
    District("Development Zone", "经济开发区", "KF", 20_000, (100, 0, 0), 0.8,
             ("开发区", "科技大道"), ()),
)

# National 2023 proportions (§(c), [C26]); college and adult take what is left.
NATIONAL_LEVEL_PERCENT = {
    "kindergarten": 55.0, "primary": 29.0, "junior": 10.5, "senior": 3.0,
    "vocational": 1.4, "special": 0.5, "college": 0.35, "adult": 0.25,
}
# §5.2 inference for Laishan: 35–45 kindergartens, 15–20 primary, 6–10 junior or nine-year,
# 2–4 senior high and vocational schools, out of about 70.
LAISHAN_LEVEL_PERCENT = {
    "kindergarten": 55.0, "primary": 26.0, "junior": 11.5, "senior": 3.0,
    "vocational": 1.5, "special": 1.5, "college": 0.0, "adult": 1.5,
}

PRESETS = {
    "xuzhou": Preset("xuzhou", "徐州市", "XZ", 2_000, XUZHOU_DISTRICTS, NATIONAL_LEVEL_PERCENT,
                     heating=False),
    "laishan": Preset("laishan", "烟台市莱山区", "LS", 70, LAISHAN_DISTRICTS, LAISHAN_LEVEL_PERCENT,
                      heating=True, nine_year_share_of_junior_percent=25, county_unit="Laishan"),
}


def preset_named(name: str) -> Preset:
    """A preset by name; `xuzhou:Tongshan` is one county-level unit of a city preset, as its
    own bureau keeps its books (issue 15)."""
    city, _, district = name.partition(":")
    try:
        preset = PRESETS[city]
    except KeyError:
        known = ", ".join(sorted(PRESETS))
        msg = f"unknown preset {name!r}; known: {known} (and city:District)"
        raise ValueError(msg) from None
    return county_preset(preset, district) if district else preset


def county_preset(city: Preset, district_name: str) -> Preset:
    """One county-level unit of a city preset, with its share of the city's schools (the
    same weights the city's draw gives it), named and coded as in the city's own draw."""
    if city.county_unit is not None:
        msg = f"preset {city.name} is already one county-level unit"
        raise ValueError(msg)
    found = [d for d in city.districts if d.name == district_name]
    if not found:
        known = ", ".join(d.name for d in city.districts)
        msg = f"{city.name} has no county-level unit {district_name!r}; known: {known}"
        raise ValueError(msg)
    weights = {d.name: d.population * d.schools_per_head_factor for d in city.districts}
    schools = max(1, round(city.schools * weights[district_name] / sum(weights.values())))
    return replace(city, schools=schools, districts=(found[0],))


@dataclass(frozen=True)
class BureauPlan:
    """A preset's bureaus (issue 15): the supervising city and its county-level bureaus, each
    with the preset that generates its books."""

    city_code: str
    city_name: str
    parent_level: str  # the supervising bureau's level: city
    counties: tuple[tuple[str, str, str], ...]  # (code, name, preset name)


def bureau_plan(name: str) -> BureauPlan:
    """Xuzhou: the city bureau over its ten county-level bureaus (XZ-GL … XZ-PZ). Laishan: the
    district bureau under Yantai's city bureau."""
    preset = preset_named(name)
    if preset.county_unit is not None:  # one district bureau: Laishan under Yantai
        return BureauPlan("YT", "烟台市教育局", "city",
                          ((f"YT-{preset.code_prefix}", "莱山区教育和体育局", preset.name),))
    return BureauPlan(preset.code_prefix, f"{preset.city_zh}教育局", "city", tuple(
        (f"{preset.code_prefix}-{d.abbreviation}", f"{d.name_zh}教育局", f"{preset.name}:{d.name}")
        for d in preset.districts))
