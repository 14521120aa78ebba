"""Demo funds' classification and provenance: a functional code, the document that issued
the money (文号) in the issuing government's style, and the levels' shares of lines several
levels pay into. Shares follow the cost-sharing rules in reference/domain.md §2.1 where it
states them; the percentages below are the generator's assumptions (inference), not policy."""

from __future__ import annotations

from collections.abc import Sequence

from domain.budget_codes import default_function_code
from projections.findings.pass_through import DEFAULT_DEADLINES, deadline_days

# Issuing governments' document prefixes (财政局 · 教育): province, city, county by preset.
_PREFIXES = {
    # a Xuzhou county-level government's own prefix varies by county: 县财教 stands for it
    "xuzhou": {"central": "财教", "provincial": "苏财教", "municipal": "徐财教",
               "county": "县财教"},
    "laishan": {"central": "财教", "provincial": "鲁财教", "municipal": "烟财教",
                "county": "莱财教"},
}
# Compulsory-education 公用经费 in an eastern province: central 50%, province 30%, county 20%
# (the post-2016 eastern central share is reported as 5:5, unverified; the local half's split
# between province and county is the generator's assumption).
OPERATING_SHARES_PERCENT = (("central", 50), ("provincial", 30), ("county", 20))
# Functional codes of funds for several levels: the 项 of the larger part.
_MULTI_LEVEL_CODES = {("primary", "junior"): "2050202", ("senior", "vocational"): "2050204"}


def preset_of(districts: Sequence[str]) -> str:
    return "laishan" if "Laishan" in districts else "xuzhou"


def doc_no(preset: str, level: str, year: int, number: int) -> str:
    """A 文号 such as 苏财教〔2025〕31号 (a county's with its own prefix)."""
    return f"{_PREFIXES[preset].get(level, '财教')}〔{year}〕{number}号"


def function_code(category: str, levels: Sequence[str]) -> str:
    for pair, code in _MULTI_LEVEL_CODES.items():
        if set(pair) <= set(levels):
            return code
    return default_function_code(category, list(levels))


def shares(category: str, earmark: str, levels: Sequence[str],
           amount: int) -> list[dict[str, object]]:
    """The levels' shares of a compulsory-education operating line (not an earmarked one);
    none (one level pays it all) else."""
    if category != "public_operating" or earmark != "none" or "primary" not in levels:
        return []
    parts = [{"source": level, "amount": amount * percent // 100}
             for level, percent in OPERATING_SHARES_PERCENT]
    parts[-1]["amount"] = amount - sum(int(p["amount"]) for p in parts[:-1])  # type: ignore[call-overload]
    return parts


def pass_through_days(source: str, category: str, earmark: str) -> int:
    """The pass-through rule's limit for the fund's step (the generated year keeps inside it)."""
    return deadline_days(DEFAULT_DEADLINES, source, category, earmark)[0]
