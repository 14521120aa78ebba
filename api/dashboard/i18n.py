"""The dashboard's words in Chinese (the default) and English."""

from __future__ import annotations

from api.dashboard.process_labels import (
    BUREAU_LABELS,
    CHANGE_LABELS,
    PERIOD_LABELS,
    RULE_NAMES_ZH,
    TRANCHE_LABELS,
)
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


# Values of the books and districts: domain/terms.py holds them for pages, exports and findings.
DISTRICTS: dict[str, str] = DISTRICTS_ZH
ENUMS: dict[str, tuple[str, str]] = {**VALUES, "CNY": ("元", "yuan")}

LABELS.update({k: v for k, v in TRANCHE_LABELS.items() if k not in LABELS})
LABELS.update(CHANGE_LABELS)
LABELS.update(WORKPLACE_LABELS)
LABELS.update(BUREAU_LABELS)
LABELS.update(PERIOD_LABELS)


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
