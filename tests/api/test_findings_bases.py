"""The findings page cites each rule's basis in the reader's language: a Chinese page reads
Chinese citations, not the registry's English notes."""

from __future__ import annotations

import re

from api.dashboard.rule_bases import RULE_BASES_ZH, rule_basis
from projections.findings.registry import RULES
from tests.api.conftest import Api
from tests.dashboard_login import page_in_both_languages

# What may stay in Latin letters in a Chinese citation: file paths and section marks.
_ALLOWED = re.compile(r"reference/domain\.md|docs/[\w-]+\.md|§")


def test_every_rule_has_a_chinese_basis_without_english_words() -> None:
    for rule in RULES:
        basis = rule_basis(rule.name, "zh")
        assert rule.name in RULE_BASES_ZH, rule.name
        assert not re.findall(r"[A-Za-z]{3,}", _ALLOWED.sub("", basis)), (rule.name, basis)
        assert rule_basis(rule.name, "en") == rule.basis


def test_the_findings_page_in_chinese_cites_in_chinese(api: Api) -> None:
    api.school()
    api.fund()
    api.expenditure(api.allocation()["id"], amount=10_000_00)  # a round sum: one finding
    api.views_caught_up()
    page, english = page_in_both_languages(api.client, api.tokens["auditor"], "/dashboard/findings")
    assert "整数金额付款可能是估算、预付款或虚假发票" in page
    assert "round sums suggest" not in page
    assert "round sums suggest" in english
