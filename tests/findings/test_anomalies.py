"""The injector on the clean test bureau: every anomaly it reports is found, and nothing else."""

from __future__ import annotations

from scripts.anomalies import inject
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
