"""A year's findings as of a day at a views position, computed once and kept in memory.

The API, the dashboard's findings page and its downloads ask for the same answers again and
again. The key is (store, fiscal year, as-of day, views position), and the rules count no
event past that position, so a kept answer is exactly the answer at that position: a new
event moves the position and the next request computes afresh. One computation per key at a
time: a second request for the same key waits for the first instead of repeating it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from projections.findings.facts import TABLES, AuditFactsView
from projections.findings.registry import run_findings
from projections.findings.rule import Finding, Scope
from projections.tracking import ViewTrackingRecorder

if TYPE_CHECKING:
    from projections.database import StoreSettings, ViewDatabase

CACHED_ANSWERS_MAX = 16

CacheKey = tuple[str, int, date | None, int]


@dataclass(frozen=True)
class FindingsAnswer:
    position: int
    findings: tuple[Finding, ...]
    seconds: float  # how long the rules took
    computed_at: float  # when (Unix time): the same for every page the answer is shown on


def store_key(settings: StoreSettings) -> str:
    """Which store an answer belongs to: PostgreSQL schemas of one database are stores apart."""
    return f"{settings.database_url}#{settings.postgres_schema}"


def views_position(db: ViewDatabase, ledger_name: str) -> int:
    """The position the views have applied (0 before the runner reached the audit facts)."""
    # The runner may not have reached this view yet; made only then, a read of a standby
    # (which takes no CREATE, even of a table it has) never asks.
    if not all(db.table_exists(table) for table in TABLES):
        AuditFactsView().create_tables(db)
    return ViewTrackingRecorder(db).max_tracking_id(ledger_name) or 0


def findings_at(db: ViewDatabase, fiscal_year: int, as_of: date | None, position: int,
                rule: str | None = None) -> list[Finding]:
    """The findings counting no event past `position`: the answer of that position even
    while the runner moves on."""
    return run_findings(db, Scope.year_end(fiscal_year, as_of, position), rule)


class FindingsCache:
    """The last few answers, least recently used dropped first; thread-safe (requests run in
    the server's thread pool)."""

    def __init__(self, size: int = CACHED_ANSWERS_MAX) -> None:
        self.size = size
        self._answers: OrderedDict[CacheKey, FindingsAnswer] = OrderedDict()
        self._computing: dict[CacheKey, threading.Lock] = {}
        self._lock = threading.Lock()
        self.computed = 0  # how many times the rules ran: tests read it

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()

    def get(self, db: ViewDatabase, store: str, ledger_name: str, fiscal_year: int,
            as_of: date | None, position: int | None = None) -> FindingsAnswer:
        """The answer at `position` (default: the views' position now)."""
        if position is None:
            position = views_position(db, ledger_name)
        key = (store, fiscal_year, as_of, position)
        with self._lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                return self._answers[key]
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:
            with self._lock:
                if key in self._answers:
                    return self._answers[key]
            started = time.monotonic()
            found = findings_at(db, fiscal_year, as_of, position)
            answer = FindingsAnswer(position, tuple(found), time.monotonic() - started, time.time())
            with self._lock:
                self.computed += 1
                self._answers[key] = answer
                self._answers.move_to_end(key)
                while len(self._answers) > self.size:
                    self._answers.popitem(last=False)
                self._computing.pop(key, None)
            return answer


FINDINGS = FindingsCache()
