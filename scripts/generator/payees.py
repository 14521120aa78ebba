"""Who schools pay: the grid company and the water works, the post and telecom operators,
新华书店, teacher-development centres, and each district's own small suppliers.

Every school keeps a few regular suppliers per kind of spending, drawn once from its
district's pool, as schools do. Names of local suppliers are invented from common trade
names; none is meant to be a real firm.
"""

from __future__ import annotations

import random

from scripts.generator.geography import District, Preset

_TRADE_NAMES = ("瑞丰", "金鼎", "华彩", "天成", "润泽", "永盛", "鑫源", "汇通", "彭城", "汉风", "泉润",
                "志远", "启航", "嘉禾", "聚福", "同创", "德润", "万方", "正大", "益民", "宏泰", "广源")
_TRADES = {
    "office": (("文化用品", "商行"), ("办公用品", "经营部"), ("文具", "店")),
    "printing": (("印务", "有限公司"), ("印刷", "厂")),
    "teaching": (("教学仪器", "有限公司"), ("体育用品", "有限公司"), ("教育科技", "有限公司")),
    "repairs": (("水电维修", "部"), ("建筑安装工程", "有限公司"), ("装饰工程", "有限公司")),
    "service_fees": (("物业管理", "有限公司"), ("保安服务", "有限公司"), ("保洁服务", "有限公司")),
    "equipment": (("教育装备", "有限公司"), ("电子科技", "有限公司"), ("电器", "商行")),
    "construction": (("建设工程", "有限公司"), ("建工集团", "有限公司")),
    "heating": (("热力", "有限公司"),),
}


class Payees:
    """Chooses a payee for a payment of one kind by one school."""

    def __init__(self, preset: Preset, rng: random.Random) -> None:
        self.preset = preset
        self.rng = rng
        self.city = preset.city_zh[:2]  # 徐州, 烟台
        self._pools: dict[tuple[str, str], list[str]] = {}
        self._regulars: dict[tuple[str, str], list[str]] = {}
        self._districts = {d.name: d for d in preset.districts}

    def payee(self, school_code: str, district: str, kind: str, month: int) -> str:
        fixed = self._fixed(district, kind, month)
        if fixed is not None:
            return fixed
        key = (school_code, kind)
        if key not in self._regulars:
            pool = self._pool(district, kind)
            self._regulars[key] = self.rng.sample(pool, min(len(pool), self.rng.randint(2, 4)))
        return self.rng.choice(self._regulars[key])

    def _fixed(self, district_name: str, kind: str, month: int) -> str | None:
        district = self._districts[district_name]
        county = _county_of(district, self.preset)
        rng = self.rng
        if kind == "utilities":
            if rng.random() < 0.7:
                return f"国网{county}供电公司" if county != self.city else f"国网{self.city}供电公司"
            return f"{county}自来水有限公司" if county != self.city else f"{self.city}首创水务有限责任公司"
        if kind == "post_telecom":
            return rng.choice((f"中国电信股份有限公司{self.city}分公司",
                               f"中国移动通信集团江苏有限公司{self.city}分公司"
                               if self.preset.name == "xuzhou" else
                               f"中国移动通信集团山东有限公司{self.city}分公司",
                               f"中国联合网络通信有限公司{self.city}市分公司",
                               f"中国邮政集团有限公司{self.city}市分公司"))
        if kind == "books":
            return rng.choice((f"{self.city}市新华书店", f"新华书店{county}店" if county != self.city
                               else f"{self.city}市新华书店", f"{self.city}博文图书有限公司"))
        if kind == "training":
            return rng.choice((f"{self.city}市教师发展中心", f"{county}教师发展中心",
                               "江苏师范大学继续教育学院" if self.preset.name == "xuzhou"
                               else "鲁东大学继续教育学院"))
        if kind == "travel":
            return rng.choice(("中国铁路上海局集团有限公司" if self.preset.name == "xuzhou"
                               else "中国铁路济南局集团有限公司", f"{self.city}汽车客运总站",
                               f"{self.city}国际旅行社有限公司"))
        if kind == "heating":
            return f"{self.city}市热力有限公司"
        return None

    def _pool(self, district_name: str, kind: str) -> list[str]:
        key = (district_name, kind)
        if key not in self._pools:
            district = self._districts[district_name]
            place = _county_of(district, self.preset).removesuffix("市").removesuffix("区")
            place = place.removesuffix("县") if len(place) > 2 else place
            trades = _TRADES.get(kind, _TRADES["office"])
            names = {f"{place}{self.rng.choice(_TRADE_NAMES)}{trade}{suffix}"
                     for trade, suffix in (self.rng.choice(trades) for _ in range(8))}
            self._pools[key] = sorted(names)
        return self._pools[key]


def _county_of(district: District, preset: Preset) -> str:
    """The name the grid company and the bookshop use: the county, or the city for its districts."""
    if preset.name != "xuzhou":
        return preset.city_zh[:2]
    if district.name_zh.endswith(("县", "市")):
        return district.name_zh
    return preset.city_zh[:2] if district.name in ("Gulou", "Yunlong", "Quanshan") else \
        f"{preset.city_zh}{district.name_zh}"
