"""Crash of the view runner: `fundledger project` SIGKILLed while it follows a ledger that is
being written to, and `fundledger rebuild` SIGKILLed in the middle of a rebuild (then the
runner resumes). Afterwards the views must reconcile with an independent replay
(`fundledger reconcile` exits 0) and equal, row for row, a fresh rebuild."""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

from api.settings import Settings
from domain.actors import Actor, Role
from domain.ledger import FundLedger, bureau_today
from projections.books import TABLES as BOOKS_TABLES
from projections.database import ViewDatabase
from projections.findings.facts import TABLES as FACTS_TABLES
from projections.journal import ENTITIES_TABLE, JOURNAL_TABLE
from projections.runner import ViewRunner
from scripts.faults import harness
from scripts.faults.report import Report

OFFICER = Actor("faults.officer", frozenset({Role.OFFICER}))
APPROVER = Actor("faults.approver", frozenset({Role.APPROVER}))
VIEW_TABLES = (*BOOKS_TABLES, JOURNAL_TABLE, ENTITIES_TABLE, *FACTS_TABLES)
PAGE_SIZE = "50"
CATCH_UP_SECONDS_MAX = 120
KILL_WAIT_SECONDS_MAX = 60


def dump(db: ViewDatabase) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every view table, in a stable order, with integers as integers."""
    tables = {}
    for table in VIEW_TABLES:
        rows = db.rows(f"SELECT * FROM {table}")  # noqa: S608  (our own table names)
        tables[table] = sorted((tuple(int(v) if type(v).__name__ == "Decimal" else v for v in r)
                                for r in rows), key=repr)
    return tables


class _Writer:
    """Writes rounds of the bureau's business (schools, allocations, approvals, spending)
    in batches, in this process, until stopped."""

    def __init__(self, ledger: FundLedger, schools: int = 20) -> None:
        self.ledger = ledger
        self.schools = schools
        self.rounds = 0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="writer")
        self.year = bureau_today().year
        with ledger.batch():
            for i in range(schools):
                ledger.register_school(OFFICER, code=f"V-{i}", name="v", district=f"D{i % 3}",
                                       level="primary", locale=("urban", "town", "rural")[i % 3],
                                       poverty_area=False, students=100 + i,
                                       effective_date=date(self.year, 1, 1))
            ledger.open_fund(OFFICER, code="V-F", name="f", fiscal_year=self.year, unit="CNY",
                             amount=10**13, source="county", category="other",
                             effective_date=date(self.year, 1, 2))

    def write_round(self) -> None:
        day = date(self.year, 1, 2)
        with self.ledger.batch():
            for i in range(self.schools):
                allocation = self.ledger.propose_allocation(
                    OFFICER, fund="V-F", school=f"V-{i}", amount=10_000, purpose="p",
                    effective_date=day).subject
                self.ledger.approve_allocation(APPROVER, allocation.id, effective_date=day)
                self.ledger.record_expenditure(OFFICER, allocation=allocation.id, amount=1_000 + i,
                                               payee="p", voucher=f"V{self.rounds}",
                                               spent_on=bureau_today())
        self.rounds += 1

    def _run(self) -> None:
        while not self.stop_event.is_set():
            self.write_round()
            time.sleep(0.02)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(60)


def _position(observer: ViewRunner) -> int:
    try:
        return observer.position()
    except Exception:  # a rebuild drops and creates the tracking table under the observer
        observer._reconnect()
        return -1


def _rebuilt_so_far(observer: ViewRunner) -> int:
    """How far a rebuild has come: on PostgreSQL it builds in parts, and the views' own
    position stays 0 until they are joined at the end, so the slowest part says it."""
    try:
        parts = observer.tracking.parts(observer.application_name)
    except Exception:  # as _position: the tracking table dropped and made under the observer
        observer._reconnect()
        return -1
    return min(parts.values()) if parts else _position(observer)


def _kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(30)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        _kill(process)


def _catch_up(settings: Settings, workdir: Path, observer: ViewRunner, ledger: FundLedger) -> bool:
    """Starts the runner again and waits until the views hold the whole log."""
    process = harness.cli_process(settings, "project", "--page-size", PAGE_SIZE,
                                  log=workdir / "runner.log")
    try:
        last = ledger.last_position()
        return harness.wait_until(lambda: _position(observer) >= last, CATCH_UP_SECONDS_MAX, 0.05)
    finally:
        _stop(process)


def _compare_with_fresh_rebuild(report: Report, settings: Settings, observer: ViewRunner) -> None:
    reconciled = harness.cli(settings, "reconcile")
    report.check("`fundledger reconcile` exits 0", reconciled.returncode == 0,
                 reconciled.stdout[-2000:] + reconciled.stderr[-2000:])
    resumed = dump(observer.db)
    rebuilt = harness.cli(settings, "rebuild")
    report.check("a fresh `fundledger rebuild` succeeds", rebuilt.returncode == 0, rebuilt.stderr[-2000:])
    observer._reconnect()  # the rebuild dropped the tables under it
    fresh = dump(observer.db)
    differing = [t for t in VIEW_TABLES if resumed[t] != fresh[t]]
    report.check("the views equal a fresh rebuild, row for row", not differing, differing)
    report.facts["view_rows"] = sum(len(rows) for rows in fresh.values())


def run_live(settings: Settings, workdir: Path, *, kills: int = 4, seconds_between_kills: float = 1.5,
             seed: int = 8) -> Report:
    report = Report("view runner crash (live)", f"SIGKILL of `fundledger project` while it "
                    f"follows a ledger being written, {kills} time(s)")
    rng = random.Random(seed)
    ledger = harness.ledger_for(settings)
    try:
        writer = _Writer(ledger)
        with ViewRunner(settings, ledger=ledger) as observer:
            writer.start()
            killed_mid_follow = 0
            for _ in range(kills):
                process = harness.cli_process(settings, "project", "--page-size", PAGE_SIZE,
                                              log=workdir / "runner.log")
                before = _position(observer)
                # Kill once it is following (it has applied something), at a random moment.
                harness.wait_until(lambda b=before: _position(observer) > b, KILL_WAIT_SECONDS_MAX)
                time.sleep(seconds_between_kills * rng.uniform(0.1, 1.0))
                # On a quiet machine the runner keeps up with the writer between its rounds: the
                # kill waits (bounded) for a moment when it is behind, the case this scenario is for.
                harness.wait_until(lambda: 0 < _position(observer) < ledger.last_position(),
                                   KILL_WAIT_SECONDS_MAX, step_seconds=0.001)
                _kill(process)
                at, log_end = _position(observer), ledger.last_position()
                killed_mid_follow += 0 < at < log_end and at > before
                report.facts.setdefault("killed_at", []).append((at, log_end))  # type: ignore[union-attr]
            writer.stop()
            report.check("the runner was killed while behind a growing log every time",
                         killed_mid_follow == kills, report.facts["killed_at"])
            report.check("the restarted runner catches up",
                         _catch_up(settings, workdir, observer, ledger))
            report.operations = ledger.last_position()
            report.facts.update(events=report.operations, rounds=writer.rounds)
            _compare_with_fresh_rebuild(report, settings, observer)
    finally:
        ledger.close()
    return report.finish()


def run_rebuild(settings: Settings, workdir: Path, *, kills: int = 4, rounds: int = 60,
                seed: int = 8) -> Report:
    report = Report("view runner crash (rebuild)", f"SIGKILL of `fundledger rebuild` at a random "
                    f"point, {kills} time(s); then `fundledger project` resumes")
    rng = random.Random(seed)
    ledger = harness.ledger_for(settings)
    try:
        writer = _Writer(ledger)
        for _ in range(rounds):
            writer.write_round()
        last = ledger.last_position()
        report.operations = last
        with ViewRunner(settings, ledger=ledger) as observer:
            observer.run_until_caught_up()
            killed_mid_rebuild = 0
            for n in range(kills):
                process = harness.cli_process(settings, "rebuild", "--page-size", PAGE_SIZE,
                                              log=workdir / "rebuild.log")
                # The first kill lands early (dropping and creating tables); the rest mid-way.
                target = 1 if n == 0 else int(last * rng.uniform(0.1, 0.9))
                # Wait for the rebuild to have dropped the views (their position falls), then
                # for it to reach the target.
                harness.wait_until(lambda p=process: _rebuilt_so_far(observer) < last or p.poll() is not None,
                                   KILL_WAIT_SECONDS_MAX, 0.002)
                harness.wait_until(lambda t=target, p=process: _rebuilt_so_far(observer) >= t or
                                   p.poll() is not None, KILL_WAIT_SECONDS_MAX, 0.005)
                _kill(process)
                # Before the rebuild's end is before its parts are joined: the views' position
                # is then still 0 (the parts may all be done: at this size they are quick).
                at = _position(observer)
                killed_mid_rebuild += at < last
                report.facts.setdefault("killed_at", []).append(at)  # type: ignore[union-attr]
                caught_up = _catch_up(settings, workdir, observer, ledger)
                reconciled = harness.cli(settings, "reconcile")
                report.check(f"kill {n + 1}: resumed and reconciled",
                             caught_up and reconciled.returncode == 0,
                             (caught_up, reconciled.stdout[-1500:]))
            report.check("every kill landed before the rebuild finished", killed_mid_rebuild == kills,
                         report.facts["killed_at"])
            report.facts["events"] = last
            _compare_with_fresh_rebuild(report, settings, observer)
    finally:
        ledger.close()
    return report.finish()
