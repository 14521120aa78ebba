"""Writes measured in-process: expenditures from N threads with and without group commit, and
bulk `ledger.batch()` saves. Bounded in count and in time."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

from domain.errors import LedgerError
from domain.group_commit import GroupCommit
from domain.ledger import FundLedger
from scripts.bench.figures import percentile
from scripts.bench.workload import OFFICER, SPENT_ON, Workload

JOIN_SLACK_SECONDS = 60.0


@dataclass
class WriteRun:
    done: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    error_kinds: dict[str, int] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0

    def p(self, fraction: float) -> float:
        """A latency percentile in milliseconds."""
        return percentile(self.latencies, fraction) * 1000


def threaded_writes(ledger: FundLedger, workload: Workload, *, threads: int, group_commit: bool,
                    count_max: int, seconds_max: float) -> WriteRun:
    """`threads` callers record expenditures until `count_max` are done or `seconds_max` pass."""
    group = GroupCommit(ledger) if group_commit else None
    run = WriteRun()
    lock = threading.Lock()
    issued = 0
    deadline = time.monotonic() + seconds_max

    def caller(index: int) -> None:
        nonlocal issued
        rng = random.Random(index)
        latencies: list[float] = []
        while time.monotonic() < deadline:
            with lock:
                if issued >= count_max:
                    break
                issued += 1
                command = workload.expenditure(ledger, rng)
            started = time.perf_counter()
            try:
                if group is not None:
                    group.submit(command)
                else:
                    command()
            except LedgerError as error:
                with lock:
                    run.errors += 1
                    run.error_kinds[error.code] = run.error_kinds.get(error.code, 0) + 1
                continue
            latencies.append(time.perf_counter() - started)
        with lock:
            run.latencies += latencies

    workers = [threading.Thread(target=caller, args=(i,), daemon=True) for i in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(seconds_max + JOIN_SLACK_SECONDS)
    run.seconds = time.perf_counter() - started
    run.done = len(run.latencies)
    if group is not None:
        group.close()
    return run


def bulk_batches(ledger: FundLedger, workload: Workload, *, commands_per_batch: int,
                 events_max: int, seconds_max: float) -> tuple[int, float]:
    """Batches of `commands_per_batch` expenditures, each saved in one atomic write; returns
    (events written, seconds)."""
    rng = random.Random(7)
    events = 0
    started = time.perf_counter()
    while events < events_max and time.perf_counter() - started < seconds_max:
        with ledger.batch() as batch:
            for _ in range(commands_per_batch):
                workload.expenditure(ledger, rng)()
        events += batch.event_count
    return events, time.perf_counter() - started


def csv_import(ledger: FundLedger, workload: Workload, *, rows: int) -> tuple[int, float]:
    """A spreadsheet of `rows` expenditures through the CSV import (domain/book_import.py), all in one
    atomic batch; returns (events written, seconds), parsing included."""
    from domain.book_import import import_csv  # noqa: PLC0415
    from domain.import_sheet import ImportKind  # noqa: PLC0415

    rng = random.Random(13)
    lines = ["allocation,amount,payee,voucher,spent_on,description"]
    lines += [f"{rng.choice(workload.allocations)},{rng.randint(100, 99_999)},徐州市教学用品供应站,"
              f"BC{workload.run_tag}-{i},{SPENT_ON.isoformat()},benchmark import" for i in range(rows)]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    before = ledger.last_position()
    started = time.perf_counter()
    result = import_csv(ledger, OFFICER, data, filename="bench.csv", kind=ImportKind.EXPENDITURES)
    seconds = time.perf_counter() - started
    if result.bad_rows:
        msg = f"the import refused {result.bad_rows} rows: {result.errors[:1]}"
        raise RuntimeError(msg)
    return ledger.last_position() - before, seconds
