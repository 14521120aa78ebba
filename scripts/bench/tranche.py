"""Bench rows for formula funding: one semester tranche for N schools (default 2,000), preview,
propose and approve, each timed end to end over HTTP against the API served by uvicorn on a
scratch PostgreSQL database (targets: preview ≤ 1 s, propose ≤ 3 s, approve ≤ 3 s).

    python -m scripts.bench.tranche [--schools 2000] [--postgres URL] [--repeat 3]

Prints the rows as a Markdown table (docs/benchmarks.md keeps the last run's).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import urllib.request
from datetime import date
from typing import Any

from api.settings import Settings
from domain.actors import Actor, Role
from domain.formula_funding import FormulaFunding
from domain.ledger import FundLedger
from scripts.bench.http_server import HOST, served
from scripts.bench.scratch import DEFAULT_POSTGRES_URL, postgres_store

FISCAL_YEAR = 2025
TODAY = date(FISCAL_YEAR, 12, 31)
REQUEST_SECONDS_MAX = 120.0
TARGETS_SECONDS = {"preview": 1.0, "propose": 3.0, "approve": 3.0}
OFFICER = Actor("bench.officer", frozenset({Role.OFFICER}))
APPROVER = Actor("bench.approver", frozenset({Role.APPROVER}))


def build(settings: Settings, schools: int, rounds: int) -> tuple[dict[str, str], list[str]]:
    """Schools, one fund and standards, and one snapshot per round; tokens for both roles."""
    ledger = FundLedger(env=settings.eventsourcing_env(), clock=lambda: TODAY)
    service = FormulaFunding(ledger)
    try:
        codes = [f"XZ-B-{i:05d}" for i in range(schools)]
        with ledger.batch():
            for index, code in enumerate(codes):
                level = "junior" if index % 4 == 0 else "primary"
                ledger.register_school(OFFICER, code=code, name=code, district="Tongshan",
                                       level=level, locale=("rural", "town", "urban")[index % 3],
                                       poverty_area=False, students=40 + (index * 37) % 1_800,
                                       effective_date=date(FISCAL_YEAR, 1, 1))
            ledger.open_fund(OFFICER, code="PUB-BENCH", name="生均公用经费", fiscal_year=FISCAL_YEAR,
                             unit="CNY", amount=10**13, source="county",
                             category="public_operating", effective_date=date(FISCAL_YEAR, 1, 2))
        for level, rate in (("primary", 800_00), ("junior", 1_000_00)):
            standard = service.set_standard(OFFICER, fiscal_year=FISCAL_YEAR, level=level,
                                            category="public_operating", rate=rate,
                                            boarder_addition=200_00, document="bench").subject
            service.decide_standard(APPROVER, standard.id, approve=True)
        snapshots = [str(service.snapshot_from_history(
            OFFICER, name=f"bench-{n}", as_of=date(FISCAL_YEAR, 3, 1), schools=codes).subject.id)
            for n in range(rounds)]
        tokens = {"officer": ledger.add_user("bench.officer", ["officer"]),
                  "approver": ledger.add_user("bench.approver", ["approver"])}
        return tokens, snapshots
    finally:
        ledger.close()


def _post(port: int, token: str, path: str, body: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    request = urllib.request.Request(
        f"http://{HOST}:{port}{path}", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=REQUEST_SECONDS_MAX) as answer:  # noqa: S310
        payload = json.loads(answer.read())
    return time.perf_counter() - started, payload


def measure(schools: int, rounds: int, url: str) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {"preview": [], "propose": [], "approve": []}
    with postgres_store(url) as settings:
        tokens, snapshots = build(settings, schools, rounds)
        with served(settings, group_commit=True) as server:
            for snapshot in snapshots:
                body = {"fund": "PUB-BENCH", "snapshot": snapshot, "semester": "spring",
                        "effective_date": f"{FISCAL_YEAR}-03-05"}
                seconds, preview = _post(server.port, tokens["officer"], "/v1/tranches", body)
                assert preview["schools"] == schools, preview["schools"]
                timings["preview"].append(seconds)
                seconds, tranche = _post(server.port, tokens["officer"], "/v1/tranches",
                                         {**body, "preview": False, "plan": preview["plan"]})
                timings["propose"].append(seconds)
                seconds, _ = _post(server.port, tokens["approver"],
                                   f"/v1/tranches/{tranche['id']}/approve", {})
                timings["approve"].append(seconds)
    return timings


def table(schools: int, timings: dict[str, list[float]]) -> str:
    lines = ["| tranche step (HTTP, PostgreSQL) | schools | median s | worst s | target s | met |",
             "|---|---|---|---|---|---|"]
    for step, values in timings.items():
        median, worst = statistics.median(values), max(values)
        target = TARGETS_SECONDS[step]
        lines.append(f"| {step} | {schools:,} | {median:.2f} | {worst:.2f} | ≤ {target:g} | "
                     f"{'yes' if worst <= target else 'no'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3, help="tranches measured (one snapshot each)")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES_URL)
    args = parser.parse_args()
    print(table(args.schools, measure(args.schools, args.repeat, args.postgres)))


if __name__ == "__main__":
    main()
