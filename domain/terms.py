"""The bureau's words: every value of the books (a level, locale, source, category, earmark,
economic class, status, district) with its Chinese and English name, so a page, an export or a
finding shows 小学 / 办公费 / 丰县 and never `primary` / `office` / `Feng`.

The economic classes carry their 部门支出经济分类 code where the class maps onto one
(e.g. 30201 办公费); classes the bureau groups more widely than the national table show no code.
"""

from __future__ import annotations

from domain.budget_codes import ECONOMIC_CODE_OF_CLASS
from domain.classification import ExpenditureClass
from domain.errors import LedgerError

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
    # Roles.
    "officer": ("财务人员", "officer"), "approver": ("审批人", "approver"),
    "auditor": ("审计员", "auditor"), "reader": ("查阅人", "reader"), "admin": ("管理员", "admin"),
    # The 优质均衡 indicators whose spread between schools is evaluated (domain/balanced_development).
    "qualified_teachers": ("高于规定学历教师数", "teachers above the required qualification"),
    "key_teachers": ("县级以上骨干教师数", "county-level key teachers"),
    "pe_arts_teachers": ("体育、艺术专任教师数", "PE and arts teachers"),
    "teaching_area": ("生均教学及辅助用房面积", "teaching area per student"),
    "sports_area": ("生均体育运动场馆面积", "sports area per student"),
    "equipment_value": ("生均教学仪器设备值", "equipment value per student"),
    "multimedia_classrooms": ("网络多媒体教室数", "multimedia classrooms"),
    # An as-of that is the fiscal year's end.
    "year_end": ("年末", "year end"),
    # Yes and no.
    "true": ("是", "yes"), "false": ("否", "no"),
}

# The generator stores districts (county-level units) in pinyin; their Chinese names
# (reference/domain.md §5.1 Xuzhou, §5.2 Laishan District, itself one county-level unit).
DISTRICTS_ZH: dict[str, str] = {
    # Xuzhou: five districts, three counties, two county-level cities
    "Gulou": "鼓楼区", "Yunlong": "云龙区", "Jiawang": "贾汪区", "Quanshan": "泉山区",
    "Tongshan": "铜山区", "Feng": "丰县", "Pei": "沛县", "Suining": "睢宁县",
    "Xinyi": "新沂市", "Pizhou": "邳州市",
    # Laishan District (莱山区), Yantai: one county-level unit (its 街道 only name schools)
    "Laishan": "莱山区",
}


# Economic classes with their 部门预算支出经济分类 code (domain/budget_codes), e.g. 办公费（30201）.
_CLASS_NAMES: dict[str, tuple[str, str]] = {
    "salaries": ("工资福利支出", "salaries"), "office": ("办公费", "office"),
    "printing": ("印刷费", "printing"), "utilities": ("水电费", "utilities"),
    "post_telecom": ("邮电费", "post and telecom"), "heating": ("取暖费", "heating"),
    "travel": ("差旅费", "travel"), "repairs": ("维修（护）费", "repairs"),
    "training": ("培训费", "training"), "teaching": ("教学业务与管理", "teaching"),
    "books": ("图书资料", "books"), "service_fees": ("劳务费", "service fees"),
    "construction": ("基本建设", "construction"), "debt_repayment": ("债务还本付息", "debt repayment"),
    "meals": ("营养膳食", "meals"), "staffing": ("编制到岗", "staffing"),
}
VALUES.update({value: (f"{zh}（{ECONOMIC_CODE_OF_CLASS[ExpenditureClass(value)]}）",
                       f"{en} ({ECONOMIC_CODE_OF_CLASS[ExpenditureClass(value)]})")
               for value, (zh, en) in _CLASS_NAMES.items()})


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


# What each kind of record is called, and which are the bureau's business (the rest are the
# ledger's own bookkeeping: voucher registers, idempotency records, users and tokens).
ENTITY_TYPES: dict[str, tuple[str, str]] = {
    "School": ("学校", "School"), "Fund": ("资金", "Fund"), "Allocation": ("拨款", "Allocation"),
    "Expenditure": ("支出", "Expenditure"), "VoucherNumber": ("凭证号登记", "Voucher register"),
    "IdempotencyRecord": ("重复请求登记", "Idempotency record"),
    "AccessToken": ("访问令牌", "Access token"), "UserAccount": ("用户", "User"),
    "FundingStandard": ("生均拨款标准", "Funding standard"),
    "EnrolmentSnapshot": ("在校生快照", "Enrolment snapshot"), "Tranche": ("拨款批次", "Tranche"),
    "TrancheSlot": ("批次登记", "Tranche register"),
    "PendingChange": ("待复核变更", "Two-person change"),
    "AccountingPeriods": ("会计期间", "Accounting periods"),
    "CountyPosts": ("县域编制", "County posts"), "PostMove": ("交流轮岗", "Post move"),
    "SchoolAssets": ("学校资产", "School assets"),
    "IndicatorReports": ("均衡指标填报", "Indicator reports"),
    "RecoveredSurplus": ("结余资金", "Recovered surplus"),
    "SigningKeys": ("签名密钥", "Signing keys"),
    "BureauTree": ("教育局名录", "Bureau register"),
}
INTERNAL_ENTITY_TYPES = frozenset({"VoucherNumber", "IdempotencyRecord", "AccessToken", "UserAccount",
                                   "TrancheSlot"})

# Every event the journal can show (its class's qualified name), in both languages.
EVENTS: dict[str, tuple[str, str]] = {
    "School.Registered": ("学校登记", "School registered"),
    "PendingChange.Proposed": ("资金变更提出", "Change proposed"),
    "PendingChange.Approved": ("资金变更批准", "Change approved"),
    "PendingChange.Rejected": ("资金变更驳回", "Change rejected"),
    "AccountingPeriods.Opened": ("会计期间登记设立", "Accounting periods opened"),
    "AccountingPeriods.MonthClosed": ("月末结账", "Month closed"),
    "School.Reclassified": ("学校类别变更", "School reclassified"),
    "School.EnrolmentReported": ("上报在校生数", "Enrolment reported"),
    "School.Closed": ("学校撤销", "School closed"),
    "School.ParentLinked": ("教学点归属学校", "Teaching point linked to its school"),
    "Fund.MarkedFormulaFunded": ("资金按生均标准拨付", "Fund marked formula-funded"),
    "Fund.TrancheCommitted": ("分批拨款下达", "Tranche committed"),
    "Allocation.FormulaRecorded": ("记录拨款计算依据", "Formula recorded"),
    "Allocation.BelowStandardAccepted": ("低于生均标准的拨款获准", "Below-standard amount accepted"),
    "FundingStandard.Proposed": ("生均标准申请", "Funding standard proposed"),
    "FundingStandard.Approved": ("生均标准批准", "Funding standard approved"),
    "FundingStandard.Rejected": ("生均标准驳回", "Funding standard rejected"),
    "FundingStandard.Revised": ("生均标准修订", "Funding standard revised"),
    "EnrolmentSnapshot.Taken": ("在校生快照生成", "Enrolment snapshot taken"),
    "Tranche.Proposed": ("拨款批次申请", "Tranche proposed"),
    "Tranche.Approved": ("拨款批次批准", "Tranche approved"),
    "Tranche.Rejected": ("拨款批次驳回", "Tranche rejected"),
    "TrancheSlot.Claimed": ("批次登记占用", "Tranche slot claimed"),
    "TrancheSlot.ClaimedAgain": ("批次登记再次占用", "Tranche slot claimed again"),
    "TrancheSlot.Freed": ("批次登记释放", "Tranche slot freed"),
    "Fund.Opened": ("资金设立", "Fund opened"),
    "Fund.AppropriationAdjusted": ("预算调整", "Appropriation adjusted"),
    "Fund.Committed": ("资金下达", "Fund committed"),
    "Fund.Released": ("资金收回", "Fund released"),
    "Fund.CarriedIn": ("上年结转转入", "Carried in"),
    "Fund.Closed": ("资金年终关闭", "Fund closed"),
    "Fund.YearEndClosed": ("资金年终结账", "Fund closed at year end"),
    "Fund.CarryOverReceived": ("上年结转资金转入", "Carry-over received"),
    "Allocation.CarriedIn": ("上年结转拨款设立", "Allocation carried in"),
    "Allocation.CarriedForward": ("结转下年", "Carried forward"),
    "Allocation.SurplusRecovered": ("结余收回", "Surplus recovered"),
    "Allocation.ProposalExpired": ("年终未审批申请关闭", "Proposal expired at year end"),
    "RecoveredSurplus.Opened": ("结余资金账设立", "Recovered-surplus account opened"),
    "RecoveredSurplus.Recovered": ("结余资金收回", "Surplus received into the account"),
    "RecoveredSurplus.PriorYearAdjusted": ("以前年度盈余调整", "Prior-year adjustment"),
    "Allocation.Opened": ("拨款设立", "Allocation opened"),
    "Allocation.Proposed": ("拨款申请", "Allocation proposed"),
    "Allocation.OpenedByTransfer": ("调剂转入设立", "Allocation opened by transfer"),
    "Allocation.OpenedByCarryOver": ("结转设立", "Allocation opened by carry-over"),
    "Allocation.Approved": ("拨款批准", "Allocation approved"),
    "Allocation.Rejected": ("拨款驳回", "Allocation rejected"),
    "Allocation.Adjusted": ("拨款调整", "Allocation adjusted"),
    "Allocation.Cancelled": ("拨款撤销", "Allocation cancelled"),
    "Allocation.TransferredOut": ("调剂转出", "Transferred out"),
    "Allocation.TransferredIn": ("调剂转入", "Transferred in"),
    "Allocation.Spent": ("拨款支用", "Spent"),
    "Allocation.SpendingReversed": ("支用冲回", "Spending reversed"),
    "Allocation.YearClosed": ("年终结账", "Year closed"),
    "Expenditure.Recorded": ("支出登记", "Expenditure recorded"),
    "Expenditure.Reversed": ("支出冲销", "Expenditure reversed"),
    "VoucherNumber.Claimed": ("凭证号占用", "Voucher number claimed"),
    "VoucherNumber.ClaimedAgain": ("凭证号再次占用", "Voucher number claimed again"),
    "VoucherNumber.Freed": ("凭证号释放", "Voucher number freed"),
    "IdempotencyRecord.Taken": ("请求登记", "Request recorded"),
    "AccessToken.Issued": ("令牌签发", "Token issued"),
    "AccessToken.Revoked": ("令牌吊销", "Token revoked"),
    "UserAccount.Added": ("用户添加", "User added"),
    "UserAccount.RolesSet": ("角色设置", "Roles set"),
    "UserAccount.SchoolsScoped": ("学校范围设置", "Schools scoped"),
    "UserAccount.TokenIssued": ("用户令牌签发", "User's token issued"),
    "UserAccount.TokensRevoked": ("令牌全部吊销", "Tokens revoked"),
    "SigningKeys.Opened": ("签名密钥记录建立", "Signing keys on record"),
    "SigningKeys.Rotated": ("签名密钥轮换", "Signing key rotated"),
    "BureauTree.Created": ("教育局名录建立", "Bureau register opened"),
    "BureauTree.Added": ("教育局登记", "Bureau registered"),
    # Resource stocks (domain/staffing.py, assets.py, indicator_reports.py).
    "CountyPosts.Opened": ("编制账户建立", "County posts opened"),
    "CountyPosts.TotalApproved": ("核定编制总额", "Post total approved"),
    "CountyPosts.PostsDistributed": ("分配学校编制", "Posts distributed"),
    "CountyPosts.Hired": ("补充在编教师", "Posts filled"),
    "CountyPosts.Departed": ("在编教师减少", "Posts vacated"),
    "CountyPosts.MovedOut": ("交流轮岗调出", "Posts moved out"),
    "CountyPosts.MovedIn": ("交流轮岗调入", "Posts moved in"),
    "PostMove.Proposed": ("交流轮岗申请", "Post move proposed"),
    "PostMove.Approved": ("交流轮岗批准", "Post move approved"),
    "PostMove.Rejected": ("交流轮岗驳回", "Post move rejected"),
    "SchoolAssets.Opened": ("资产账户建立", "School assets opened"),
    "SchoolAssets.Received": ("资产入库", "Assets received"),
    "SchoolAssets.Disposed": ("资产报废", "Assets disposed of"),
    "SchoolAssets.TransferredOut": ("资产调出", "Assets transferred out"),
    "SchoolAssets.TransferredIn": ("资产调入", "Assets transferred in"),
    "IndicatorReports.Opened": ("指标填报建立", "Indicator reports opened"),
    "IndicatorReports.Reported": ("均衡指标填报", "Indicators reported"),
}


def event_name(kind: str, language: str) -> str:
    """An event as a person reads it (拨款批准 / Allocation approved); an event without a
    name yet shows its kind (a test lists every event the domain defines)."""
    pair = EVENTS.get(kind) or ENTITY_TYPES.get(kind)
    if pair is None:
        return kind
    return pair[0] if language.startswith("zh") else pair[1]


# Every refusal of the books (domain/errors.py codes) as a person reads it in Chinese; in
# English the error's own title serves.
ERRORS_ZH: dict[str, str] = {
    "ledger_error": "账本拒绝了该操作", "invalid_input": "输入无效",
    "amount_out_of_range": "金额超出范围",
    "unknown_classification_code": "政府收支分类科目代码不在科目表中",
    "shares_mismatch": "各级资金来源分担额之和须等于预算数", "unknown_unit": "未知的计量单位",
    "unit_mismatch": "计量单位与资金不一致", "date_outside_fiscal_year": "日期不在资金所属年度内",
    "date_in_future": "日期晚于今天", "role_not_allowed": "无此操作权限",
    "maker_checker": "审批人不得为申请人本人", "unknown_token": "令牌无效或已吊销",
    "not_found": "未找到", "school_not_found": "学校不存在", "fund_not_found": "资金不存在",
    "allocation_not_found": "拨款不存在", "expenditure_not_found": "支出不存在",
    "user_not_found": "用户不存在", "already_exists": "已存在",
    "school_already_registered": "学校代码已登记", "fund_already_opened": "资金代码已设立",
    "duplicate_voucher": "本校本年度凭证号重复", "rule_violation": "违反账务规则",
    "overspend": "支出超过拨款余额", "over_allocation": "拨款超过资金预算",
    "below_spent": "调整后拨款将低于已支出", "appropriation_below_allocated": "预算将低于已下达",
    "not_approved": "拨款尚未批准", "not_proposed": "拨款不在待审批状态", "closed": "已关闭",
    "school_closed": "学校已撤销", "fund_closed": "资金已关闭",
    "allocation_closed": "拨款已撤销、驳回或关闭",
    "earmark_violation": "乡村支持资金只能拨付镇区、乡村或脱贫地区学校",
    "level_not_eligible": "该资金不适用于此学段",
    "expenditure_class_not_allowed": "该资金不得列支此经济分类",
    "spent_before_approval": "支出日期早于拨款批准日期", "already_reversed": "支出已冲销",
    "transfer_not_allowed": "不允许调剂",
    "carry_over_target_invalid": "结转目标须为下一年度同单位的执行中资金",
    "purpose_changed": "结转资金须按原用途使用（类别、专项标识和支出经济分类不变）",
    "basic_expenditure_surplus": "基本支出只形成结转，不形成结余",
    "carry_over_target_missing": "下一年度没有同用途的执行中资金可结转",
    "project_continuation_unexplained": "项目结转须说明项目继续实施的理由",
    "resource_units_not_closed": "编制、设备等实物资源不作年终结转结余",
    "operating_funds_purpose": "公用经费不得用于基本建设、人员工资或偿还债务",
    "idempotency_key_reused": "幂等键已用于另一请求", "batch_rejected": "批量请求被拒绝，未写入任何内容",
    "concurrency_conflict": "并发修改，请重试",
    "write_not_started": "写入未能及时开始，未写入任何内容，请重试",
    "version_mismatch": "版本与 If-Match 不一致",
    "standard_pending": "生均标准尚待审批", "standard_missing": "缺少已批准的生均标准",
    "below_standard": "金额低于生均标准，须说明原因",
    "duplicate_schools": "学校重复出现", "unknown_schools": "学校代码不存在",
    "plan_changed": "拨款批次方案已变化，请重新预览", "snapshot_exists": "在校生快照已存在",
    "snapshot_not_found": "在校生快照不存在", "standard_not_found": "生均标准不存在",
    "tranche_exceeds_available": "拨款批次超过可用额度", "tranche_exists": "拨款批次已存在",
    "tranche_not_found": "拨款批次不存在",
    "change_not_found": "变更不存在", "change_not_pending": "该变更已批准或驳回",
    "period_closed": "业务日期所在月份已结账", "period_already_closed": "该月份已结账",
    "period_not_ended": "月份结束后方可结账",
    "period_has_pending_changes": "该月份尚有待复核的变更，须先批准或驳回",
    # Resource stocks (domain/stock_errors.py).
    "over_quota": "超出核定编制总额", "posts_below_filled": "核定编制不能少于在编人数",
    "no_vacancy": "该校没有空编", "not_enough_filled": "在编人数不足",
    "not_enough_held": "资产数量或价值不足", "stock_date_order": "存量变动须按日期顺序登记",
    "move_not_pending": "该交流轮岗已处理", "school_not_in_county": "学校不属于同一县级单位",
    "implausible_figure": "填报数值超出合理范围", "move_not_found": "未找到该交流轮岗",
    # Bureaus (domain/bureau_registry.py).
    "bureau_not_found": "教育局不存在",
    "bureau_parent_conflict": "一个教育局只有一个上级（高一级），且不能成环",
    "supervisor_read_only": "上级教育局只能查阅下级账本，不能写入",
    "school_move_refused": "学校不在教育局之间迁移",
}


def error_title(code: str, title_en: str, language: str) -> str:
    """A refusal's title in the language (its code when no title is known)."""
    if language.startswith("zh"):
        return ERRORS_ZH.get(code, code)
    return title_en or code


def refusal_line(error: LedgerError, language: str) -> str:
    """A refusal in one line for the top of a page: its title, then its detail where the
    language has one (a Chinese page never shows the English sentence)."""
    title = error_title(error.code, error.title, language)
    detail = error.detail_in(language)
    if not detail or detail.startswith(title):  # 资金不存在：PUB-9 says its title already
        return detail or title
    return f"{title}{'：' if language.startswith('zh') else ': '}{detail}"


def _titles_en(kind: type[LedgerError]) -> dict[str, str]:
    titles = {kind.code: kind.title}
    for sub in kind.__subclasses__():
        titles |= _titles_en(sub)
    return titles


def refusal_title(code: str, language: str) -> str:
    """A refusal code's title in the language, its English from the error classes defined
    so far (walked at each call: modules define refusals of their own)."""
    return error_title(code, _titles_en(LedgerError).get(code, ""), language)
