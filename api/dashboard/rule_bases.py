"""What each findings rule rests on, in Chinese: the zh findings page cites the documents in
the reader's language (the registry's bases mix English notes into the Chinese citations).
In English the registry's own basis serves."""

from __future__ import annotations

from projections.findings.registry import RULES_BY_NAME

_DECEMBER = "预算执行进度（序时进度）管理；年末突击花钱的研究（经济日报 2009、2013）"

RULE_BASES_ZH: dict[str, str] = {
    "pass_through_late": RULES_BY_NAME["pass_through_late"].basis,  # written in Chinese
    "idle_allocation": "审计署关于沉淀资金的审计发现（云南 2016；2020 年第四季度跟踪审计：闲置 2,003 万元）",
    "stale_balance": "财预〔2010〕7号关于结转和结余资金的规定；审计署关于结余资金多年闲置的审计发现",
    "idle_carry_over": "财预〔2010〕7号（结转资金按原用途用于尚在实施的项目）；地方两年未用即收回的规定；"
                       "reference/domain.md §4.3 第 7 项",
    "below_benchmark": "财教〔2006〕5号；2016 年统一的生均公用经费基准定额：东部小学 650 元、初中 850 元，"
                       "特殊教育 6,000 元；不足 100 人的小规模学校按 100 人核定（地方规定）",
    "below_standard_accepted": "按生均标准拨款的资金拒绝低于核定标准的手工拨款，除非提出人说明理由"
                               "（docs/formula-funding.md）",
    "teacher_training_share": "财教〔2006〕5号《农村中小学公用经费支出管理暂行办法》：按学校年度公用经费"
                              "预算总额的 5% 安排教师培训费",
    "december_surge": _DECEMBER,
    "december_surge_fund": _DECEMBER,
    "maker_checker": "行政事业单位内部控制规范（试行）（制衡性；不相容岗位相互分离）；"
                     "美国审计署《内部控制标准》（绿皮书）控制活动",
    "approval_role": "行政事业单位内部控制规范（试行）：由指定岗位授权审批",
    "duplicate_voucher": "会计基础工作规范（一张原始凭证只入账一次）；学生资助资金审计（重复支付）",
    "consecutive_invoices": "监利县审计局 2018（外地供应商的连号发票）",
    "round_sum_payment": "审计实务：整数金额付款可能是估算、预付款或虚假发票",
    "split_purchase": "政府采购法实施条例第二十八条（化整为零规避公开招标）；地方分散采购限额标准",
    "purpose_violation": "财教〔2006〕5号（公用经费不得用于人员经费、基本建设、偿还债务）；"
                         "中小学校财务制度（专款专用）；审计署 2008（3.8% 被挤占挪用）",
    "difference_coefficient": "教督〔2017〕6号 县域义务教育优质均衡发展督导评估办法：7 项生均资源指标，"
                              "差异系数小学 ≤ 0.50、初中 ≤ 0.45（优质均衡评估报告的评估）",
    "rural_urban_ratio": "教育局缩小城乡差距的职责；城乡生均经费比目标（可配置）",
    "backdated_entry": "《会计基础工作规范》及时记账；月末结账实务（reference/domain.md §(c) 8："
                       "记账日期落在已结账期间之后）",
}


def rule_basis(rule: str, language: str) -> str:
    """A rule's basis in the language; a rule without a Chinese basis shows the registry's."""
    if language == "zh" and rule in RULE_BASES_ZH:
        return RULE_BASES_ZH[rule]
    found = RULES_BY_NAME.get(rule)
    return found.basis if found is not None else ""
