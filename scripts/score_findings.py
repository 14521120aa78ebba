"""The scored run: generate a fiscal year, inject anomalies, run every finding, and compare the
findings with the ground truth — precision and recall per rule.

    python -m scripts.score_findings            # scale 0.05 of the Xuzhou preset, seed 7, 2025

A finding matches an injected anomaly when the rule and the key are the same. Rules whose
anomaly is exactly defined must reach recall 1.0 and precision ≥ 0.95 (`--check` exits
non-zero otherwise); indicators with a judgement threshold (December surge, difference
coefficient, rural/urban ratio) are reported too, and their false positives are real
findings of the generated year rather than errors.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.ledger import FundLedger
from projections.database import ViewDatabase
from projections.findings.facts import catch_up
from projections.findings.registry import RULES, run_findings
from projections.findings.rule import Scope
from scripts.anomalies import inject, write_truth

if TYPE_CHECKING:
    from collections.abc import Iterable

    from projections.findings.rule import Finding

PRECISION_MIN = 0.95
RECALL_MIN = 1.0


@dataclass(frozen=True)
class RuleScore:
    """One rule's score. `baseline` counts findings the generated year already had before any
    injection (and still has): they are the generator's data, neither hits nor false alarms."""

    rule: str
    exactly_defined: bool
    baseline: int
    injected: int
    true_positives: int
    false_positives: int

    @property
    def precision(self) -> float | None:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.injected if self.injected else None

    @property
    def meets_targets(self) -> bool:
        if not self.exactly_defined or not self.injected:
            return True
        return (self.recall or 0) >= RECALL_MIN and (self.precision or 0) >= PRECISION_MIN


def _identity(rule: str, key: Any) -> tuple[str, str]:
    return rule, json.dumps(key, sort_keys=True, ensure_ascii=False)


def score(
    findings: Iterable[Finding], truth: Iterable[dict[str, Any]], baseline: Iterable[Finding] = ()
) -> list[RuleScore]:
    """Per rule of the catalogue: findings matched against the injected ground truth, with
    the findings the year had before injection set apart."""
    found = {_identity(f.rule, dict(f.key)) for f in findings}
    injected = {_identity(t["rule"], t["key"]) for t in truth}
    before = {_identity(f.rule, dict(f.key)) for f in baseline} - injected
    kept = Counter(rule for rule, _ in found & before)
    right = Counter(rule for rule, _ in found & injected)
    wrong = Counter(rule for rule, _ in found - injected - before)
    injected_count = Counter(rule for rule, _ in injected)
    return [
        RuleScore(
            r.name, r.exactly_defined, kept[r.name], injected_count[r.name], right[r.name], wrong[r.name]
        )
        for r in RULES
    ]


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def table(scores: list[RuleScore]) -> str:
    lines = [
        "| rule | exactly defined | before injection | injected | found (TP) | false positives | precision "
        "| recall | targets |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in scores:
        target = ("met" if s.meets_targets else "MISSED") if s.exactly_defined and s.injected else "n/a"
        lines.append(
            f"| {s.rule} | {'yes' if s.exactly_defined else 'no'} | {s.baseline} | {s.injected} | "
            f"{s.true_positives} | {s.false_positives} | {_ratio(s.precision)} | {_ratio(s.recall)} "
            f"| {target} |"
        )
    return "\n".join(lines)


def scored_run(*, year: int, scale: float, seed: int, truth_path: Path | None) -> tuple[list[RuleScore], str]:
    from scripts.generator import generate  # noqa: PLC0415  (the views helper's generator)

    started = time.monotonic()
    ledger = FundLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: date(year, 12, 31))
    try:
        generate(ledger, preset="xuzhou", seed=seed, fiscal_year=year, scale=scale)
        generated_at = ledger.last_position()
        session = ViewDatabase.in_memory()
        catch_up(session, ledger)
        baseline = run_findings(session, Scope.year_end(year))
        truth = inject(ledger, year, seed=seed)
        if truth_path is not None:
            write_truth(truth, truth_path)
        catch_up(session, ledger)
        findings = run_findings(session, Scope.year_end(year))
        events = ledger.last_position()
    finally:
        ledger.close()
    seconds = time.monotonic() - started
    summary = (
        f"Xuzhou preset, scale {scale}, seed {seed}, fiscal year {year}: {generated_at} generated "
        f"events, {events - generated_at} injected, {len(truth)} anomalies, {len(baseline)} findings "
        f"before injection and {len(findings)} after "
        f"({seconds:.1f} s)"
    )
    return score(findings, truth, baseline), summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--truth", type=Path, default=Path("var/ground_truth.jsonl"))
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if an exactly defined rule misses its targets"
    )
    args = parser.parse_args()
    scores, summary = scored_run(year=args.year, scale=args.scale, seed=args.seed, truth_path=args.truth)
    print(summary)
    print()
    print(table(scores))
    if args.check and not all(s.meets_targets for s in scores):
        sys.exit(1)


if __name__ == "__main__":
    main()
