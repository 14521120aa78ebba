"""The scored run end to end on a small generated year: every exactly defined rule finds every
injected anomaly, and the clean year raises nothing of its own."""

from __future__ import annotations

from scripts.score_findings import scored_run


def test_a_small_generated_year_with_injected_anomalies_meets_the_targets() -> None:
    scores, _ = scored_run(year=2025, scale=0.01, seed=7, truth_path=None)
    for rule_score in scores:
        assert rule_score.meets_targets, rule_score
        assert rule_score.false_positives == 0, rule_score
    exact = [s for s in scores if s.exactly_defined and s.injected]
    assert len(exact) >= 11
