"""Crash of the API: under a steady load of writes, `fundledger serve` is SIGKILLed and
started again several times.

The load clients send every write with its own Idempotency-Key and, when the answer is lost
(connection refused or reset, 503), send it again with the same key until it is answered.
They keep what was acknowledged (2xx). Afterwards, read straight from the event store:
every acknowledged write is there; nothing is written twice; nothing is half-written (each
allocation's spent equals the sum of the expenditures recorded against it); and the views
and the hash chain agree with the events.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from api.settings import Settings
from domain.allocation import Allocation
from domain.expenditure import Expenditure
from domain.idempotency import id_from_key
from domain.school import School
from projections.reconcile import replay_aggregates
from scripts.faults import harness
from scripts.faults.report import Report

ALLOCATION_FEN = 10**10
RETRY_WAIT_SECONDS = 0.05
OPERATION_SECONDS_MAX = 60
CATCH_UP_SECONDS_MAX = 60


def run(settings: Settings, workdir: Path, *, kills: int = 3, writers: int = 8,
        seconds_between_kills: float = 3.0, seed: int = 8) -> Report:
    report = Report("API crash", f"SIGKILL of `fundledger serve` under load, {kills} time(s), "
                    "restarted each time")
    tokens = harness.add_tokens(settings)
    server = harness.Server(settings, workdir)
    server.start()
    try:
        setup = harness.Client(server.url, tokens)
        try:
            ids = harness.build_bureau(setup, schools=2, fund="CRASH", allocation_amount=ALLOCATION_FEN,
                                       appropriation=4 * ALLOCATION_FEN, approved=4)["approved"]
        finally:
            setup.close()
        load = Load(server.url, tokens, ids, writers, seed)
        load.start()
        acked_at_kills: list[int] = []
        for _ in range(kills):
            time.sleep(seconds_between_kills)
            acked_before = len(load.acked)
            server.kill()
            time.sleep(0.2)  # clients meet the dead port
            server.start()
            acked_at_kills.append(acked_before)
        time.sleep(seconds_between_kills)
        load.stop()
        report.operations = load.sent
        report.facts.update(kills=kills, server_starts=server.starts, requests=load.sent,
                            acknowledged=len(load.acked), answers=dict(load.statuses),
                            retried=load.retried, unfinished=load.unfinished)
        marks = [*acked_at_kills, len(load.acked)]
        report.check("the load made progress before the first kill and after every restart",
                     marks[0] > 0 and all(a < b for a, b in itertools.pairwise(marks)), marks)
        report.check("no 5xx other than 503 while restarting",
                     all(s < 500 or s == 503 for s in load.statuses if isinstance(s, int)),
                     load.statuses)
        report.check("no write was refused (each was affordable and new)",
                     not any(isinstance(s, int) and 400 <= s < 500 for s in load.statuses), load.errors[:5])
        check_store(report, settings, load, ids)
        caught_up = harness.wait_until(lambda: harness.views_caught_up(server.url), CATCH_UP_SECONDS_MAX, 0.2)
        report.check("the restarted server's views catch up", caught_up)
    finally:
        server.stop()
    reconciled = harness.cli(settings, "reconcile")
    report.check("`fundledger reconcile` exits 0", reconciled.returncode == 0,
                 reconciled.stdout[-2000:] + reconciled.stderr[-2000:])
    verified = harness.cli(settings, "verify")
    report.check("`fundledger verify` (hash chain) exits 0", verified.returncode == 0,
                 verified.stdout[-2000:] + verified.stderr[-2000:])
    return report.finish()



def _code(response: httpx.Response) -> str | None:
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return None
    try:
        return str(response.json().get("code"))
    except ValueError:
        return None


class Load:
    """Writers that retry a lost answer with the same key and remember what was acknowledged."""

    def __init__(self, url: str, tokens: dict[str, str], allocations: list[str], writers: int,
                 seed: int) -> None:
        self.url = url
        self.tokens = tokens
        self.allocations = allocations
        self.writers = writers
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.acked: dict[str, dict[str, Any]] = {}  # key → the write and its answer
        self.attempted: dict[str, dict[str, Any]] = {}
        self.statuses: Counter[int | str] = Counter()
        # (sent, answered: monotonic seconds; status, problem code) of every request.
        self.timeline: list[tuple[float, float, int | str, str | None]] = []
        self.errors: list[str] = []
        self.sent = 0
        self.retried = 0
        self.unfinished = 0
        self.threads = [threading.Thread(target=self._write, args=(n,), name=f"load-{n}")
                        for n in range(writers)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(OPERATION_SECONDS_MAX + 10)

    def _write(self, writer: int) -> None:
        n = 0
        with httpx.Client(base_url=self.url, timeout=30) as http:
            while not self.stopping.is_set():
                n += 1
                key = f"crash-{writer}-{n}"
                if n % 5 == 0:
                    op = {"kind": "school", "path": "/v1/schools",
                          "body": harness.school_body(f"K{writer}-{n}")}
                else:
                    allocation = self.allocations[(writer + n) % len(self.allocations)]
                    op = {"kind": "expenditure", "path": "/v1/expenditures", "allocation": allocation,
                          "amount": 100 + n % 7,
                          "body": harness.expenditure_body(allocation, 100 + n % 7, f"K-{writer}-{n}")}
                with self.lock:
                    self.attempted[key] = op
                self._until_answered(http, key, op)

    def _until_answered(self, http: httpx.Client, key: str, op: dict[str, Any]) -> None:
        headers = {"Authorization": f"Bearer {self.tokens['officer']}", "Idempotency-Key": key}
        deadline = time.monotonic() + OPERATION_SECONDS_MAX
        first = True
        while time.monotonic() < deadline:
            with self.lock:
                self.sent += 1
                self.retried += 0 if first else 1
            first = False
            sent = time.monotonic()
            try:
                response = http.post(op["path"], json=op["body"], headers=headers)
            except httpx.HTTPError as error:
                with self.lock:
                    self.statuses[f"transport: {type(error).__name__}"] += 1
                    self.timeline.append((sent, time.monotonic(),
                                          f"transport: {type(error).__name__}", None))
                time.sleep(RETRY_WAIT_SECONDS)
                continue
            with self.lock:
                self.statuses[response.status_code] += 1
                self.timeline.append((sent, time.monotonic(), response.status_code,
                                      _code(response)))
            if response.status_code in (200, 201):
                with self.lock:
                    self.acked[key] = {**op, "answer": response.json()}
                return
            if response.status_code == 503:
                time.sleep(RETRY_WAIT_SECONDS)
                continue
            with self.lock:
                self.errors.append(f"{key}: {response.status_code} {response.text[:300]}")
            return
        with self.lock:
            self.unfinished += 1


def check_store(report: Report, settings: Settings, load: Load, allocations: list[str]) -> None:
    ledger = harness.ledger_for(settings)
    try:
        aggregates = replay_aggregates(ledger)
        officer = "faults.officer"
        acked_expenditures = {UUID(a["answer"]["id"]): a for a in load.acked.values()
                              if a["kind"] == "expenditure"}
        stored = {a.id: a for a in aggregates.values() if isinstance(a, Expenditure)}
        report.check("every acknowledged expenditure is in the event store, as acknowledged",
                     all(i in stored and stored[i].amount == a["amount"]
                         and str(stored[i].allocation_id) == a["allocation"]
                         for i, a in acked_expenditures.items()),
                     [str(i) for i in acked_expenditures if i not in stored][:5])
        acked_schools = {a["body"]["code"] for a in load.acked.values() if a["kind"] == "school"}
        stored_schools = {a.code for a in aggregates.values() if isinstance(a, School)}
        report.check("every acknowledged school is in the event store",
                     acked_schools <= stored_schools, sorted(acked_schools - stored_schools)[:5])
        attempted_ids = {id_from_key("expenditure", officer, k) for k, op in load.attempted.items()
                         if op["kind"] == "expenditure"}
        report.check("nothing was written that no client sent, nor twice for one key",
                     set(stored) <= attempted_ids, len(set(stored) - attempted_ids))
        report.check("every acknowledged key named the id its key derives",
                     all(UUID(a["answer"]["id"]) == id_from_key("expenditure", officer, k)
                         for k, a in load.acked.items() if a["kind"] == "expenditure"))
        spent_by_allocation: Counter[UUID] = Counter()
        for expenditure in stored.values():
            spent_by_allocation[expenditure.allocation_id] += expenditure.amount
        held = {a.id: a.spent for a in aggregates.values() if isinstance(a, Allocation)}
        report.check("nothing half-written: each allocation's spent is its expenditures' sum",
                     all(held[UUID(i)] == spent_by_allocation[UUID(i)] for i in allocations),
                     {i: (held[UUID(i)], spent_by_allocation[UUID(i)]) for i in allocations})
        report.facts["stored_expenditures"] = len(stored)
    finally:
        ledger.close()
