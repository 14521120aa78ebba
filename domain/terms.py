"""The bureau's words: every value of the books (a level, locale, source, category, earmark,
economic class, status, district) with its Chinese and English name, so a page, an export or a
finding shows 小学 / 办公费 / 丰县 and never `primary` / `office` / `Feng`.

The economic classes carry their 部门支出经济分类 code where the class maps onto one
(e.g. 30201 办公费); classes the bureau groups more widely than the national table show no code.
"""

from __future__ import annotations

# value: (zh, en)
VALUES: dict[str, tuple[str, str]] = {
    # Locales (《统计上划分城乡的规定》).
    "urban": ("城区", "urban"), "town": ("镇区", "town"), "rural": ("乡村", "rural"),
    # School levels.
    "kindergarten": ("幼儿园", "kindergarten"), "primary": ("小学", "primary"),
    "junior": ("初中", "junior high"), "senior": ("高中", "senior high"),
    "nine_year": ("九年一贯制", "nine-year"), "complete": ("完全中学", "complete"),
    "vocational": ("中职", "vocational"), "college": ("高校", "college"),
    "special": ("特殊教育", "special"), "adult": ("成人教育", "adult"),
    # Statuses of allocations, expenditures, funds, schools and users.
    "proposed": ("待审批", "proposed"), "approved": ("已批准", "approved"),
    "rejected": ("已驳回", "rejected"), "cancelled": ("已撤销", "cancelled"),
    "closed": ("已关闭", "closed"), "recorded": ("已记录", "recorded"),
    "reversed": ("已冲销", "reversed"), "open": ("执行中", "open"), "active": ("在办", "active"),
    "applied": ("已写入", "applied"),
    # Fund sources (budget levels, 预算法 Art. 3).
    "central": ("中央", "central"), "provincial": ("省级", "provincial"),
    "municipal": ("市级", "municipal"), "county": ("县级", "county"), "other": ("其他", "other"),
    # Fund categories.
    "personnel": ("人员经费", "personnel"), "public_operating": ("公用经费", "public operating"),
    "facilities": ("校舍建设", "facilities"), "equipment": ("设备购置", "equipment"),
    "teacher_training": ("教师培训", "teacher training"), "student_aid": ("学生资助", "student aid"),
    "nutrition": ("营养改善计划", "nutrition"),
    # Earmarks.
    "none": ("无", "none"), "rural_support": ("乡村支持专项", "rural support"),
    # Economic classes (部门支出经济分类; the code where one applies).
    "salaries": ("工资福利支出（301）", "salaries (301)"),
    "office": ("办公费（30201）", "office (30201)"),
    "printing": ("印刷费（30202）", "printing (30202)"),
    "utilities": ("水电费（30205/30206）", "utilities (30205/30206)"),
    "post_telecom": ("邮电费（30207）", "post and telecom (30207)"),
    "heating": ("取暖费（30208）", "heating (30208)"),
    "travel": ("差旅费（30211）", "travel (30211)"),
    "repairs": ("维修（护）费（30213）", "repairs (30213)"),
    "training": ("培训费（30216）", "training (30216)"),
    "teaching": ("教学业务与管理", "teaching"),
    "books": ("图书资料", "books"),
    "service_fees": ("劳务费（30226）", "service fees (30226)"),
    "construction": ("基本建设（309）", "construction (309)"),
    "debt_repayment": ("债务还本付息", "debt repayment"),
    "meals": ("营养膳食", "meals"),
    "staffing": ("编制到岗", "staffing"),
    # Finding decisions.
    "true": ("是", "yes"), "false": ("否", "no"),
}

# The generator stores districts in pinyin; their Chinese names (reference/domain.md §5.1
# Xuzhou, §5.2 Laishan District, whose 街道 and development zone stand where counties would).
DISTRICTS_ZH: dict[str, str] = {
    # Xuzhou: five districts, three counties, two county-level cities
    "Gulou": "鼓楼区", "Yunlong": "云龙区", "Jiawang": "贾汪区", "Quanshan": "泉山区",
    "Tongshan": "铜山区", "Feng": "丰县", "Pei": "沛县", "Suining": "睢宁县",
    "Xinyi": "新沂市", "Pizhou": "邳州市",
    # Laishan District (莱山区), Yantai: its 街道 and the development zone
    "Huanghailu": "黄海路街道", "Chujia": "初家街道", "Binhailu": "滨海路街道",
    "Xiejiazhuang": "解甲庄街道", "Laishan": "莱山街道", "Yuangezhuang": "院格庄街道",
    "Development Zone": "经济开发区",
}


def term(value: object, language: str) -> str:
    """A value of the books in the language; a value without a name (a school code, a
    payee) shows as it is. True/False read 是/否 and yes/no."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    text = str(value)
    if text in DISTRICTS_ZH:
        return DISTRICTS_ZH[text] if language.startswith("zh") else text
    pair = VALUES.get(text)
    if pair is None:
        return text
    return pair[0] if language.startswith("zh") else pair[1]
