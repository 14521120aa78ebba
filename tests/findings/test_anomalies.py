"""The injector on the clean test bureau: every anomaly it reports is found, and nothing else."""

from __future__ import annotations

from domain.errors import FundNotFound
from scripts.anomalies import INJECTED_FUND_FEN, INJECTED_FUNDS, inject
from scripts.score_findings import score
from tests.findings.conftest import Bureau


def test_every_injected_anomaly_is_found_and_nothing_else(bureau: Bureau) -> None:
    truth = inject(bureau.ledger, 2025, seed=3)
    injected_rules = {t["rule"] for t in truth}
    assert injected_rules >= {
        "pass_through_late",
        "idle_allocation",
        "below_benchmark",
        "teacher_training_share",
        "december_surge",
        "maker_checker",
        "approval_role",
        "duplicate_voucher",
        "consecutive_invoices",
        "round_sum_payment",
        "split_purchase",
        "purpose_violation",
    }
    for rule_score in score(bureau.all_findings(), truth):
        assert rule_score.true_positives == rule_score.injected, rule_score
        assert rule_score.false_positives == rule_score.baseline == 0, rule_score
    # Injected funds are the size of a county's project line, grown only as far as needed:
    # never ¥1000亿 beside funds of a few million, which made the overview's chart useless.
    for suffix, _ in INJECTED_FUNDS.values():
        code = f"2025-{suffix}"
        try:
            fund = bureau.ledger.get_fund(code)
        except FundNotFound:
            continue
        assert fund.appropriated < fund.allocated + INJECTED_FUND_FEN, code
