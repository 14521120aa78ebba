"""The dashboard's words in Chinese (the default) and English."""

from __future__ import annotations

from api.dashboard.workplace.labels import WORKPLACE_LABELS
from domain.errors import LedgerError
from domain.terms import DISTRICTS_ZH, VALUES
from domain.units import unit_of
from projections.findings.registry import RULES_BY_NAME

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

LABELS: dict[str, tuple[str, str]] = {
    # key: (zh, en)
    "app": ("教育经费账本", "Education fund ledger"),
    "overview": ("概览", "Overview"),
    "schools": ("学校", "Schools"),
    "rural": ("乡村支持", "Rural support"),
    "carry_over": ("结转结余", "Carry-over and surplus"),
    "carry_over_statement": ("结转结余变动表", "Carry-over and surplus statement"),
    "carry_over_note": ("按资金、来源级次和学校；结转按原用途继续使用，结余收回来源级次（财预〔2010〕7号）。",
                        "Per fund, source level and school: carry-over keeps its purpose, "
                        "surplus goes back to the level that paid it."),
    "surplus_by_level": ("结余资金（按来源级次）", "Recovered surplus by source level"),
    "source_level": ("来源级次", "Source level"),
    "carry_in": ("年初结转", "Carried in"),
    "appropriation": ("本年预算", "Appropriation"),
    "adjustments": ("预算调整", "Adjustments"),
    "carried_forward": ("结转下年", "Carried forward"),
    "surplus_recovered": ("结余收回", "Surplus recovered"),
    "prior_year_adjustments": ("以前年度盈余调整", "Prior-year adjustments"),
    "surplus_balance": ("结余合计", "Surplus balance"),
    "closing": ("年末余额", "Closing"),
    "unallocated": ("（未分配）", "(unallocated)"),
    "audit": ("审计", "Audit"),
    "imports": ("导入", "Import"),
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "token": ("访问令牌", "Access token"),
    "login_hint": ("请输入 `fundledger users add` 或 `fundledger demo` 给出的令牌。",
                   "Enter a token from `fundledger users add` or `fundledger demo`."),
    "bad_token": ("令牌无效、已吊销，或不能查阅账目（管理员令牌只用于管理用户）。",
                  "Unknown or revoked token, or one that cannot read the books (an admin "
                  "token manages users only)."),
    "as_of": ("截至日期", "As of"),
    "today": ("今天", "today"),
    "apply": ("应用", "Apply"),
    "clear": ("清除", "Clear"),
    "fiscal_year": ("年度", "Fiscal year"),
    "as_of_note": ("账目按截至该日生效的事件重现。", "The books as they stood on that date."),
    "funds_of_year": ("本年度资金", "Funds of the year"),
    "fund": ("资金", "Fund"),
    "name": ("名称", "Name"),
    "unit": ("单位", "Unit"),
    "appropriated": ("预算", "Appropriated"),
    "allocated": ("已下达", "Allocated"),
    "spent": ("已支出", "Spent"),
    "remaining": ("余额", "Remaining"),
    "burn_down": ("月度下达、支出与余额", "Monthly allocated, spent and remaining"),
    "month": ("月份", "Month"),
    "search": ("搜索", "Search"),
    "search_hint": ("代码或名称", "code or name"),
    "district": ("区县/街道", "District or sub-district"),
    "locale": ("城乡类别", "Locale"),
    "level": ("学段", "Level"),
    "students": ("学生数", "Students"),
    "poverty_area": ("脱贫地区", "Poverty area"),
    "all": ("全部", "All"),
    "filter": ("筛选", "Filter"),
    "next_page": ("下一页", "Next page"),
    "previous_page": ("上一页", "Previous page"),
    "import_history": ("导入记录", "Imports so far"),
    "started_at": ("开始时间", "Started at"),
    "kind": ("类型", "Kind"),
    "file": ("文件", "File"),
    "bad_rows": ("被拒行数", "Refused rows"),
    "school": ("学校", "School"),
    "code": ("代码", "Code"),
    "status": ("状态", "Status"),
    "allocations": ("拨款", "Allocations"),
    "expenditures": ("支出", "Expenditures"),
    "timeline": ("事件时间线", "Timeline of events"),
    "purpose": ("用途", "Purpose"),
    "amount": ("金额", "Amount"),
    "date": ("日期", "Date"),
    "payee": ("收款人", "Payee"),
    "voucher": ("凭证号", "Voucher"),
    "description": ("摘要", "Description"),
    "event": ("事件", "Event"),
    "actor": ("操作人", "Actor"),
    "reason": ("原因", "Reason"),
    "per_student": ("生均下达", "Per student allocated"),
    "per_student_by_locale": ("各区县/街道城乡生均下达", "Per-student allocation by locale and district"),
    "ratio": ("乡村/城区生均比", "Rural-to-urban per-student ratio"),
    "difference_coefficient": ("差异系数", "Difference coefficient"),
    "threshold": ("标准", "Threshold"),
    "over_threshold": ("超标", "Over threshold"),
    "within_threshold": ("达标", "Within threshold"),
    "no_data": ("无数据", "no data"),
    "counties": ("县域义务教育校际差异系数", "Counties' difference coefficients (compulsory)"),
    "balanced": ("优质均衡评估", "Balanced development"),
    "balanced_basis": (
        "依据《县域义务教育优质均衡发展督导评估办法》（教督〔2017〕6号）：各项指标校际差异系数"
        "小学≤0.50、初中≤0.45；每所学校至少6项达到国家标准，其余不低于标准的85%。",
        "Basis: 教督〔2017〕6号 — each indicator's between-school CV ≤ 0.50 (primary) / ≤ 0.45 "
        "(junior); each school meets at least 6 of 7 national values and the rest at ≥ 85 %."),
    "balanced_link": ("校际差异系数按七项资源配置指标计算，见优质均衡评估。",
                      "Between-school difference coefficients are computed over the seven "
                      "resource indicators: see Balanced development."),
    "stage": ("学段", "Stage"),
    "indicator": ("指标", "Indicator"),
    "mean": ("县域均值", "County mean"),
    "national_value": ("国家标准", "National value"),
    "value": ("本校值", "School value"),
    "passes": ("达标", "Passes"),
    "fails": ("未达标", "Fails"),
    "unknown": ("数据不全", "Incomplete data"),
    "cv_rule": ("差异系数", "CV rule"),
    "school_rule": ("学校达标", "School rule"),
    "failing_schools": ("未达标学校及原因", "Schools that fail, and why"),
    "short_of": ("低于国家标准的指标", "Indicators below the national value"),
    "below_85": ("低于标准85%", "below 85 %"),
    "excluded": ("不纳入评估", "Left out of the evaluation"),
    "special_education": ("特殊教育学校", "special-education school"),
    "teaching_point": ("不足50人的教学点", "teaching point under 50 pupils"),
    "estimated_split": ("学段人数按年级估算", "stage split estimated by grades"),
    "all_schools_pass": ("全部学校达标", "Every school passes"),
    "verify": ("哈希链校验", "Hash-chain verification"),
    "verify_ok": ("完整：未发现篡改", "Intact: nothing altered"),
    "verify_bad": ("发现异常，首个异常位置", "Broken at position"),
    "checked": ("已校验事件", "Events checked"),
    "export_job": ("导出任务", "Export"),
    "export_running": ("正在后台写入，本页每秒刷新",
                       "Being written in the background; this page refreshes every second"),
    "export_done": ("已写完，可以下载", "Written: ready to download"),
    "export_failed": ("导出失败", "The export failed"),
    "rows_written": ("已写入行数", "Rows written"),
    "export_background": ("（后台生成）", "(written in the background)"),
    "verify_continued": ("自已签名的校验点续验，校验点位置",
                         "Continued from the signed checkpoint at position"),
    "verify_whole_hint": ("从头完整校验：fundledger verify",
                          "a whole rehash from the first event: fundledger verify"),
    "checkpoint_refused": ("校验点签名无效，已从头校验",
                           "Checkpoint signature invalid; verified from the first event"),
    "head_hash": ("链头哈希", "Head hash"),
    "chain_hash": ("链哈希", "Chain hash"),
    "axis_yuan": ("金额（元）", "Amount (yuan)"),
    "axis_yuan_per_student": ("生均（元）", "Per student (yuan)"),
    "axis_log_scale": ("对数刻度", "log scale"),
    "internal_records": ("含系统内部记录（凭证号登记、令牌等）",
                         "Include internal records (voucher registers, tokens …)"),
    "category": ("资金类别", "Category"),
    "source": ("资金来源", "Source"),
    "earmark": ("专项用途", "Earmark"),
    "function_code": ("支出功能分类", "Functional class"),
    "doc_no": ("文号", "Document no."),
    "shares": ("各级分担", "Shares by level"),
    "digest": ("已签名摘要", "Digests signed so far"),
    "sign_digest": ("现在签名一份摘要", "Sign a digest now"),
    "signed_by": ("签名申请人", "Asked by"),
    "no_digests": ("尚未签名任何摘要", "No digest signed yet"),
    "position": ("位置", "Position"),
    "signed_at": ("签名时间", "Signed at"),
    "signature": ("签名", "Signature"),
    "download_digest": ("下载摘要", "Download digest"),
    "journal": ("日志", "Journal"),
    "entity_type": ("对象类型", "Entity type"),
    "exports": ("导出", "Exports"),
    "balances": ("余额", "Balances"),
    "rural_report": ("乡村支持报表", "Rural-support report"),
    "recorded_at": ("记录时间", "Recorded at"),
    "effective_date": ("生效日期", "Effective date"),
    "no_rows": ("没有记录", "Nothing here"),
    "views_at": ("视图位置", "Views at position"),
    "not_auditor": ("此页面需要审计员角色。", "This page needs the auditor role."),
    "scoped_reader": ("此令牌仅限所列学校，本页面涉及全局数据。",
                      "This token reads its own schools only; this page shows the whole bureau."),
    "import_title": ("导入拨款或支出（CSV）", "Import allocations or expenditures (CSV)"),
    "template": ("下载模板", "Download template"),
    "upload": ("上传并导入", "Upload and import"),
    "import_applied": ("已全部写入", "All rows applied"),
    "import_rejected": ("文件被拒绝，未写入任何记录", "The file was refused; nothing was written"),
    "line": ("行号", "Line"),
    "rows": ("行数", "Rows"),
    "not_officer": ("导入需要财务人员角色。", "Importing needs the officer role."),
    "problem": ("问题", "Problem"),
    "journal_note": ("最新的在前", "newest first"),
    "older": ("更早", "Older"),
    "dashboard_link": ("仪表盘", "Dashboard"),
    "findings": ("审计发现", "Findings"),
    "findings_title": ("审计发现", "Audit findings"),
    "findings_note": ("按截至日期计算：只计该日及以前生效的事件。",
                      "Computed as of the date: only events in effect by then count."),
    "rule": ("规则", "Rule"),
    "basis": ("依据", "Basis"),
    "parameters": ("参数", "Parameters"),
    "subject": ("对象", "Subject"),
    "measure": ("测度", "Measure"),
    "evidence": ("证据（日志位置）", "Evidence (journal positions)"),
    "history": ("历史", "history"),
    "message": ("说明", "Detail"),
    "count": ("条数", "Count"),
    "download": ("下载", "Download"),
    "findings_shown_first": ("仅显示前", "Showing the first"),
    "findings_download_all": ("条；下载文件包含全部。", "; the download holds them all."),
    "no_findings": ("未发现问题", "No findings"),
    "entity": ("对象标识", "Entity"),
    "computed_in": ("计算用时", "computed in"),
    "seconds": ("秒", "s"),
    "students_now": ("现在", "now"),
}

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


# Values of the books and districts: domain/terms.py holds them for pages, exports and findings.
DISTRICTS: dict[str, str] = DISTRICTS_ZH
ENUMS: dict[str, tuple[str, str]] = {**VALUES, "CNY": ("元", "yuan")}


LABELS.update({k: v for k, v in TRANCHE_LABELS.items() if k not in LABELS})

# Two-person changes (issue 14): a read-only page for approvers and auditors.
LABELS.update({
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
    "changes_none": ("没有此状态的变更。", "No changes in this status."),
    "changes_need_approver": ("此页面需要审批人或审计员角色。",
                              "This page needs the approver or auditor role."),
})
LABELS.update(WORKPLACE_LABELS)

# Bureaus (issue 15): the city page and the bureau switcher.
LABELS.update({
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
})


# Month-end close (issue 16): the closed months, read-only for every reader.
LABELS.update({
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
})

class Labels(dict[str, str]):
    """A page's labels: a key without a label shows as ⟦key⟧, visible on the page (and
    caught by the test of every page in Chinese), never as an empty cell."""

    def __missing__(self, key: str) -> str:
        return f"⟦{key}⟧"


def translate(key: str, language: str) -> str:
    """A label in the language; an unknown key shows itself (visible, never a crash)."""
    pair = LABELS.get(key) or ENUMS.get(key)
    if pair is None:
        return key
    return pair[0] if language == "zh" else pair[1]


def district_name(value: str, language: str) -> str:
    """A district as stored (pinyin, `Feng`) in the language: 丰县 in Chinese, as stored in
    English. An unknown district shows as stored."""
    return DISTRICTS.get(value, value) if language == "zh" else value


def rule_name(rule: str, language: str) -> str:
    """A findings rule's name in the language; an unknown rule shows itself."""
    if language == "zh" and rule in RULE_NAMES_ZH:
        return RULE_NAMES_ZH[rule]
    found = RULES_BY_NAME.get(rule)
    return found.title if found is not None else rule


def translate_value(value: str, language: str) -> str:
    """A value of the books (a locale, level, status, unit code or district) in the language.
    Values come before page labels: `rural` the locale is 乡村, not the page 乡村支持."""
    if value in DISTRICTS:
        return district_name(value, language)
    pair = ENUMS.get(value)
    if pair is not None:
        return pair[0] if language == "zh" else pair[1]
    if value.isupper():
        try:
            unit = unit_of(value)
        except LedgerError:
            return value
        return unit.label_zh if language == "zh" else unit.label_en
    return translate(value, language)
