"""The dashboard's words for the bureau's processes, in Chinese and English: the findings
rules, formula tranches, two-person changes, bureaus and closed months. Merged into the
dashboard's labels (api/dashboard/i18n.py), so the test of every page covers them too."""

from __future__ import annotations

# The findings rules (projections/findings/registry.py) in Chinese; in English, their titles.
RULE_NAMES_ZH: dict[str, str] = {
    "pass_through_late": "资金下达超过预算法时限",
    "idle_allocation": "拨款长期闲置未支出",
    "stale_balance": "结转结余超过12个月",
    "idle_carry_over": "结转资金超过一年未使用",
    "backdated_entry": "记账日期晚于业务日期过久（补记倒签）",
    "below_benchmark": "生均公用经费低于基准定额",
    "below_standard_accepted": "低于生均标准的拨款（已说明理由）",
    "teacher_training_share": "教师培训支出不足公用经费5%",
    "december_surge": "学校年末突击支出",
    "december_surge_fund": "资金年末突击支出",
    "maker_checker": "经办与审批为同一人",
    "approval_role": "非审批岗位审批拨款",
    "duplicate_voucher": "同一收款人凭证号重复",
    "consecutive_invoices": "同一收款人跨校连号发票",
    "round_sum_payment": "整数金额付款",
    "split_purchase": "化整为零规避采购限额",
    "purpose_violation": "超范围支出（挤占挪用）",
    "difference_coefficient": "县域校际差异系数超标",
    "rural_urban_ratio": "乡村/城区生均比偏低或下降",
}

# The formula-funding pages (api/dashboard/tranches.py).
TRANCHE_LABELS: dict[str, tuple[str, str]] = {
    "tranches": ("生均拨款", "Formula tranches"),
    "tranche_title": ("按生均标准分批拨款（生均公用经费）", "Formula tranches (per-pupil funds)"),
    "tranche_hint": ("选择资金与在校生快照，预览每所学校的金额与计算依据，核对后提交审批。",
                     "Choose a fund and an enrolment snapshot, check each school's amount and "
                     "its inputs, then propose the tranche for approval."),
    "snapshot": ("在校生快照", "Enrolment snapshot"),
    "semester": ("学期", "Semester"),
    "spring": ("春季学期", "spring"),
    "autumn": ("秋季学期", "autumn"),
    "share": ("学期比例", "Share"),
    "effective_date": ("生效日期", "Effective date"),
    "preview": ("预览", "Preview"),
    "propose": ("提交审批", "Propose"),
    "approve": ("批准", "Approve"),
    "reject": ("驳回", "Reject"),
    "school": ("学校", "School"),
    "level": ("学段", "Level"),
    "pupils": ("在校生", "Pupils"),
    "teaching_points": ("所属教学点", "Teaching points"),
    "counted_pupils": ("核定人数", "Counted pupils"),
    "boarders": ("寄宿生", "Boarders"),
    "special_needs": ("随班就读残疾学生", "Special-needs pupils"),
    "rate": ("生均标准（元/年）", "Rate (yuan/year)"),
    "additions": ("寄宿/特教增拨（元/年）", "Additions (yuan/year)"),
    "amount_yuan": ("金额（元）", "Amount (yuan)"),
    "rounding": ("舍入（分）", "Rounding (fen)"),
    "total": ("合计", "Total"),
    "rounding_difference": ("舍入差额（分）", "Rounding difference (fen)"),
    "available": ("可用额度", "Available"),
    "shortfall": ("缺口", "Shortfall"),
    "missing_standards": ("缺少已批准生均标准的学段", "Levels without an approved standard"),
    "excluded_schools": ("未纳入的学校", "Schools left out"),
    "download_xlsx": ("下载 XLSX", "Download XLSX"),
    "tranche": ("拨款批次", "Tranche"),
    "status": ("状态", "Status"),
    "proposed_by": ("经办人", "Proposed by"),
    "decided_by": ("审批人", "Decided by"),
    "exclude_hint": ("暂不批准的学校，每行一个：学校代码=原因",
                     "Schools to leave proposed, one a line: CODE=reason"),
    "reason": ("原因", "Reason"),
    "not_approver": ("只有审批人（且非经办人）可以审批。",
                     "Only an approver who did not propose it can decide."),
    "proposed_ok": ("已提交审批", "Proposed"),
    "schools_count": ("所学校", "schools"),
}

# Two-person changes (issue 14): a read-only page for approvers and auditors.
CHANGE_LABELS: dict[str, tuple[str, str]] = {
    "changes": ("待审批变更", "Changes"),
    "changes_title": ("双人复核的资金变更", "Two-person changes"),
    "changes_hint": ("调整、调剂、撤销、预算调整和年终结转须由另一位审批人批准后才生效；"
                     "用 API 或 fundledger changes approve 批准。",
                     "Adjustments, transfers, cancellations, appropriation changes and year-end "
                     "closes take effect only when another approver approves them (API or "
                     "`fundledger changes approve`)."),
    "change_pending": ("待审批", "pending"),
    "change_approved": ("已批准", "approved"),
    "change_rejected": ("已驳回", "rejected"),
    "change_id": ("变更编号", "change"),
    "change_kind": ("类型", "kind"),
    "change_maker": ("提出人", "maker"),
    "change_subjects": ("涉及", "subjects"),
    "change_params": ("内容", "what"),
    "change_made_on": ("提出日期", "made on"),
    "change_decided_by": ("决定人", "decided by"),
    # What a change's parameters are called on the page (the rest share the forms' labels).
    "funds": ("资金", "funds"),
    "next_year_funds": ("下年资金", "next year's funds"),
    "exceptions": ("例外", "exceptions"),
    "carry_to": ("结转至", "carried to"),
    "to_allocation": ("划入拨款", "to allocation"),
    "expenditure": ("支出", "expenditure"),
    "changes_none": ("没有此状态的变更。", "No changes in this status."),
    "changes_need_approver": ("此页面需要审批人或审计员角色。",
                              "This page needs the approver or auditor role."),
}

# Bureaus (issue 15): the city page and the bureau switcher.
BUREAU_LABELS: dict[str, tuple[str, str]] = {
    "bureaus": ("教育局", "Bureaus"),
    "bureau": ("教育局", "Bureau"),
    "bureau_now": ("当前账本", "Books shown"),
    "bureau_enter": ("进入", "Step in"),
    "bureau_level": ("级别", "Level"),
    "bureau_children": ("下级县级教育局（各自记账）",
                        "County-level bureaus below (each keeps its own books)"),
    "bureau_position": ("读取位置", "Position read"),
    "bureau_pupils": ("在校生", "Pupils"),
    "bureau_per_pupil": ("生均拨款", "Per pupil"),
    "bureau_totals": ("合计", "Total"),
    "bureau_read_only": ("上级教育局只读查阅下级账本，不能写入。",
                         "A supervising bureau reads its bureaus' books and never writes them."),
    "bureau_none_below": ("本局没有下级教育局。", "This bureau supervises no other bureau."),
    "bureau_level_county": ("县级", "county-level"), "bureau_level_city": ("地市级", "city"),
    "bureau_level_province": ("省级", "province"),
}


# Month-end close (issue 16): the closed months, read-only for every reader.
PERIOD_LABELS: dict[str, tuple[str, str]] = {
    "periods": ("月结", "Closed months"),
    "periods_title": ("已结账月份", "Closed months"),
    "periods_hint": ("月份结账后，业务日期在该月的任何记账（支出、冲销、拨款、调整、调剂、撤销、"
                     "在校生和资产登记）均被拒绝，更正记入未结账的月份。结账由一位审批人提出、"
                     "另一位审批人批准（API 或 fundledger periods close）。",
                     "Once a month is closed, nothing dated in it is recorded any more "
                     "(spending, reversals, allocations, adjustments, transfers, cancellations, "
                     "enrolment and asset records); corrections go into an open month. One "
                     "approver asks for the close and another approves it (API or "
                     "`fundledger periods close`)."),
    "period_month": ("月份", "month"),
    "period_closed_by": ("提出人", "asked by"),
    "period_approved_by": ("批准人", "approved by"),
    "period_closed_on": ("结账日期", "closed on"),
    "period_reason": ("说明", "reason"),
    "periods_none": ("尚无已结账的月份。", "No month is closed yet."),
}
