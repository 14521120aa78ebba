"""Races: many concurrent HTTP clients spend from the same few allocations and approve
proposals against the same fund, through the group-commit path of a real server.

Every spending request is of the same amount and every proposal of the same size, so the
number of writes that can be afforded is known in advance: exactly that many must succeed,
the rest must be refused with a 409 problem, nothing may answer 5xx, and the books (the
event store itself and the views) must hold exactly the acknowledged writes. Each spending
request is sent twice at once with the same Idempotency-Key, so a repeat racing its original
is exercised too: both must name the same expenditure.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from api.settings import Settings
from scripts.faults import harness
from scripts.faults.report import Report

ALLOCATION_FEN = 100_000
SPEND_FEN = 7_000
REFUSALS = {"overspend", "over_allocation", "not_proposed", "not_approved"}
RACE_SECONDS_MAX = 300


def run(settings: Settings, workdir: Path, *, clients: int = 64, allocations: int = 4,
        spend_rounds: int = 2, proposals: int = 48, affordable_approvals: int = 20,
        seed: int = 8) -> Report:
    report = Report("races", f"{clients} concurrent HTTP clients released at once on "
                    f"{allocations} allocations and one fund (group commit on)")
    affordable_spends = ALLOCATION_FEN // SPEND_FEN
    tokens = harness.add_tokens(settings)
    with harness.serving(settings, workdir) as server:
        setup = harness.Client(server.url, tokens)
        try:
            ids = harness.build_bureau(
                setup, schools=allocations, fund="RACE", allocation_amount=ALLOCATION_FEN,
                appropriation=ALLOCATION_FEN * (allocations + affordable_approvals) + ALLOCATION_FEN // 2,
                approved=allocations, proposed=proposals)
        finally:
            setup.close()
        operations = _operations(ids, clients * spend_rounds, seed)
        answers = _race(server.url, tokens, operations, clients)
        report.operations = len(operations)
        statuses = Counter(a["status"] for a in answers)
        report.facts["statuses"] = dict(sorted(statuses.items(), key=lambda kv: str(kv[0])))
        report.check("no 5xx and no dropped connection",
                     all(isinstance(a["status"], int) and a["status"] < 500 for a in answers),
                     [a for a in answers if not isinstance(a["status"], int) or a["status"] >= 500][:5])
        refused = [a for a in answers if isinstance(a["status"], int) and 300 <= a["status"] < 500]
        report.check("every refusal is a 409 problem naming the rule",
                     all(a["status"] == 409 and a["code"] in REFUSALS for a in refused),
                     Counter((a["status"], a["code"]) for a in refused))
        spent = defaultdict(set)
        by_key: dict[str, set[str]] = defaultdict(set)
        approved = set()
        for a in answers:
            if a["status"] in (200, 201):
                if a["kind"] == "spend":
                    spent[a["target"]].add(a["id"])
                    by_key[a["key"]].add(a["id"])
                else:
                    approved.add(a["target"])
        report.check(f"exactly {affordable_spends} spends succeed on each allocation",
                     all(len(spent[i]) == affordable_spends for i in ids["approved"]),
                     {i: len(spent[i]) for i in ids["approved"]})
        report.check("a repeat racing its original names the same expenditure",
                     all(len(found) == 1 for found in by_key.values()), by_key)
        report.check(f"exactly {affordable_approvals} approvals succeed",
                     len(approved) == affordable_approvals, len(approved))
        _check_store(report, settings, ids, spent, approved, affordable_approvals)
        _check_views(report, server.url, tokens, ids, spent, answers)
        reconciled = harness.cli(settings, "reconcile")
        report.check("`fundledger reconcile` exits 0", reconciled.returncode == 0,
                     reconciled.stdout[-2000:] + reconciled.stderr[-2000:])
        report.facts["log_tracebacks"] = server.log_text().count("Traceback")
    return report.finish()


def _operations(ids: dict[str, list[str]], spends: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    operations: list[dict[str, Any]] = []
    for n in range(spends):
        allocation = ids["approved"][n % len(ids["approved"])]
        op = {"kind": "spend", "target": allocation, "key": f"race-spend-{n}",
              "body": harness.expenditure_body(allocation, SPEND_FEN, f"R-{n}")}
        operations += [op, op]  # the same request twice, racing
    for n, proposal in enumerate(ids["proposed"]):
        op = {"kind": "approve", "target": proposal, "key": None,
              "body": {"effective_date": f"{harness.fiscal_year()}-01-02"},
              "role": "approver" if n % 2 else "approver2"}
        operations += [op, {**op, "role": "approver2" if n % 2 else "approver"}]
    # Keep the racing twins next to each other, shuffle the pairs.
    pairs = [operations[i:i + 2] for i in range(0, len(operations), 2)]
    rng.shuffle(pairs)
    return [op for pair in pairs for op in pair]


def _race(url: str, tokens: dict[str, str], operations: list[dict[str, Any]],
          clients: int) -> list[dict[str, Any]]:
    answers: list[dict[str, Any]] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)
    cursor = iter(range(len(operations)))

    def client() -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            http.get("/healthz")  # connect before the start line
            start.wait()
            while True:
                with lock:
                    index = next(cursor, None)
                if index is None:
                    return
                op = operations[index]
                answer = _send(http, tokens, op)
                with lock:
                    answers.append(answer)

    threads = [threading.Thread(target=client, name=f"race-{i}") for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(RACE_SECONDS_MAX)
    return answers


def _send(http: httpx.Client, tokens: dict[str, str], op: dict[str, Any]) -> dict[str, Any]:
    role = op.get("role", "officer")
    headers = {"Authorization": f"Bearer {tokens[role]}"}
    if op["key"]:
        headers["Idempotency-Key"] = op["key"]
    path = ("/v1/expenditures" if op["kind"] == "spend"
            else f"/v1/allocations/{op['target']}/approve")
    answer = {"kind": op["kind"], "target": op["target"], "key": op["key"], "code": None,
              "id": None, "position": 0}
    try:
        response = http.post(path, json=op["body"], headers=headers)
    except httpx.HTTPError as error:
        return {**answer, "status": f"transport: {type(error).__name__}"}
    body = response.json() if response.content else {}
    return {**answer, "status": response.status_code, "code": body.get("code"),
            "id": body.get("id"), "position": body.get("position") or 0}


def _check_store(report: Report, settings: Settings, ids: dict[str, list[str]],
                 spent: dict[str, set[str]], approved: set[str], affordable_approvals: int) -> None:
    """The event store itself, read back by a fresh ledger: exactly the acknowledged writes."""
    ledger = harness.ledger_for(settings)
    try:
        held = {i: ledger.get_allocation(UUID(i)).spent for i in ids["approved"]}
        report.check("the store's spent per allocation is the acknowledged spends' sum",
                     all(held[i] == len(spent[i]) * SPEND_FEN for i in held), held)
        statuses = {i: ledger.get_allocation(UUID(i)).status for i in ids["proposed"]}
        stored_approved = {i for i, s in statuses.items() if s == "approved"}
        report.check("the store's approved proposals are exactly the acknowledged ones",
                     stored_approved == approved, (len(stored_approved), len(approved)))
        fund = ledger.get_fund("RACE")
        expected = (len(ids["approved"]) + affordable_approvals) * ALLOCATION_FEN
        report.check("the fund is not over-allocated and holds the acknowledged sum",
                     fund.allocated == expected and fund.allocated <= fund.appropriated,
                     (fund.allocated, expected, fund.appropriated))
    finally:
        ledger.close()


def _check_views(report: Report, url: str, tokens: dict[str, str], ids: dict[str, list[str]],
                 spent: dict[str, set[str]], answers: list[dict[str, Any]]) -> None:
    last = max((a["position"] for a in answers), default=0)
    client = harness.Client(url, tokens)
    try:
        fund = client.ok(client.get("reader", "/v1/funds/RACE", min_position=last))
        total_spent = sum(len(s) for s in spent.values()) * SPEND_FEN
        report.check("the fund's view shows the acknowledged spending", fund["spent"] == total_spent,
                     (fund["spent"], total_spent))
    finally:
        client.close()
