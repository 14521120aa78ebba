"""`python -m scripts.bench.findings_rules --database-url URL [--year 2025] [--as-of 2025-06-30]`:
`run_findings` cold on an existing store, rule by rule, as it runs them (one shared read a
run, rules in catalogue order, so a rule's figure includes the shared reads it is the first to
ask): CPU and wall seconds, the minimum of `--runs`, with the load average, and a digest of the
findings (to compare two versions of the rules on the same store). Then the warm answer: the
same findings asked again of the findings cache (projections/findings/cache.py) as the API and
the dashboard ask it, the views' position read included.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from datetime import date

from api.settings import Settings
from projections.database import ViewDatabase
from projections.findings.as_of import SharedReads
from projections.findings.cache import FindingsCache, store_key
from projections.findings.registry import RULES
from projections.findings.rule import Finding, Scope
from projections.queries import APPLICATION_NAME
from projections.tracking import ViewTrackingRecorder


def digest(findings: list[Finding]) -> str:
    text = json.dumps([f.as_dict() for f in findings], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--as-of", type=date.fromisoformat, default=None)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    settings = Settings(database_url=args.database_url)
    db = ViewDatabase.open(settings)
    position = ViewTrackingRecorder(db).max_tracking_id(APPLICATION_NAME) or 0
    scope = Scope.year_end(args.year, args.as_of, position)
    cpu: dict[str, list[float]] = {rule.name: [] for rule in RULES}
    totals: list[tuple[float, float]] = []
    loads = [os.getloadavg()[0]]
    for _ in range(args.runs):
        shared = SharedReads(db)
        findings: list[Finding] = []
        start_wall, start_cpu = time.monotonic(), time.process_time()
        for rule in RULES:
            before = time.process_time()
            findings.extend(rule.run(shared, scope))  # type: ignore[arg-type]
            cpu[rule.name].append(time.process_time() - before)
        totals.append((time.process_time() - start_cpu, time.monotonic() - start_wall))
        loads.append(os.getloadavg()[0])
    print(f"{args.database_url} {scope.fiscal_year} as of {scope.day} at position {position}: "
          f"{len(findings)} findings, digest {digest(findings)}; load {min(loads):.1f}–{max(loads):.1f}")
    print(f"all rules: CPU {min(t[0] for t in totals):.3f} s, wall {min(t[1] for t in totals):.3f} s "
          f"(min of {args.runs}; CPU runs {', '.join(f'{t[0]:.2f}' for t in totals)})")
    for name, seconds in sorted(cpu.items(), key=lambda item: -min(item[1])):
        print(f"  {name:<26} {min(seconds):.3f}")
    kept, store = FindingsCache(), store_key(settings)
    kept.get(db, store, APPLICATION_NAME, args.year, args.as_of)  # computed once, then kept
    warm: list[float] = []
    for _ in range(args.runs):
        start_wall = time.monotonic()
        kept.get(db, store, APPLICATION_NAME, args.year, args.as_of)
        warm.append(time.monotonic() - start_wall)
    print(f"warm (the kept answer): wall {min(warm) * 1_000:.1f} ms (min of {args.runs}), "
          f"{kept.computed} computation")


if __name__ == "__main__":
    main()
