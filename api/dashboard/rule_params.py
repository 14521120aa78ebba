"""The findings rules' parameters as the findings page shows them: named in the page's
language, money (a name in `fen` or `_minor`) in yuan through the one formatting function.
The API and the rule code keep the machine names and the integers."""

from __future__ import annotations

from typing import Any

from domain.units import money_text

PARAM_NAMES: dict[str, tuple[str, str]] = {
    "county_days": ("县级转拨时限（天）", "county pass-through (days)"),
    "municipal_general_days": ("市级一般转移支付时限（天）", "municipal general transfers (days)"),
    "municipal_special_days": ("市级专项转移支付时限（天）", "municipal special transfers (days)"),
    "provincial_general_days": ("省级一般转移支付时限（天）", "provincial general transfers (days)"),
    "provincial_special_days": ("省级专项转移支付时限（天）", "provincial special transfers (days)"),
    "central_general_days": ("中央一般转移支付时限（天）", "central general transfers (days)"),
    "central_special_days": ("中央专项转移支付时限（天）", "central special transfers (days)"),
    "other_days": ("其他来源时限（天）", "other sources (days)"),
    "idle_days": ("闲置天数", "idle days"),
    "unit": ("单位", "unit"),
    "balance_age_days_max": ("余额最长账龄（天）", "oldest balance (days)"),
    "carry_over_age_days_max": ("结转最长账龄（天）", "oldest carry-over (days)"),
    "benchmark_fen_per_student_primary": ("小学生均基准", "benchmark per primary pupil"),
    "benchmark_fen_per_student_junior": ("初中生均基准", "benchmark per junior pupil"),
    "benchmark_fen_per_student_special": ("特教生均基准", "benchmark per special-education pupil"),
    "small_school_floor_students": ("小规模学校按人数计", "small schools counted as (pupils)"),
    "training_share_min_basis_points": ("培训经费最低占比（基点）", "training share at least (basis points)"),
    "december_share_max_basis_points": ("12月支出最高占比（基点）", "December share at most (basis points)"),
    "last_days": ("年末天数", "last days of the year"),
    "last_days_share_max_basis_points": ("年末支出最高占比（基点）",
                                         "last days' share at most (basis points)"),
    "expenditures_min": ("最少支出笔数", "expenditures at least"),
    "approver_role": ("审批角色", "approver role"),
    "run_length_min": ("连号最少张数", "consecutive invoices at least"),
    "schools_min": ("最少学校数", "schools at least"),
    "round_unit_fen": ("整数金额单位", "round to"),
    "round_amount_min_fen": ("整数金额下限", "round amounts from"),
    "procurement_threshold_fen": ("采购限额", "procurement threshold"),
    "just_under_basis_points": ("略低于限额（基点）", "just under (basis points)"),
    "window_days": ("时间窗（天）", "window (days)"),
    "forbidden_for_public_operating": ("公用经费禁止用途", "forbidden for public operating funds"),
    "ratio_min": ("最低比值", "ratio at least"),
    "ratio_drop_max": ("比值最大降幅", "ratio drop at most"),
    "categories": ("类别", "categories"),
    "days_max": ("最多天数", "days at most"),
}


def is_money(name: str) -> bool:
    return "fen" in name.split("_") or name.endswith("_minor")


def param_text(name: str, value: Any, language: str) -> tuple[str, str]:
    """(name, value) as the page shows them; an unknown name shows itself."""
    zh, en = PARAM_NAMES.get(name, (name, name))
    if is_money(name) and type(value) is int:
        shown = money_text(value, "CNY", language)
    elif isinstance(value, tuple | list):
        shown = ", ".join(map(str, value)) or "—"
    else:
        shown = str(value)
    return (zh if language == "zh" else en), shown
