"""Which release's table layout each view has in a store, and bringing it to this release's.

Each view's layout is named by a fingerprint: SHA-256 of the DDL its `create_tables` runs. The
store records, in `view_schema`, the fingerprint its tables were built with. When this release's
fingerprint differs, the tables are out of date and `fundledger migrate` upgrades them in place:

- a view whose tables are derived from the events alone (books, audit facts) is dropped, created
  again and refilled from the event log — in place, resumable (the drop, the new tables, the
  reset position and the new fingerprints commit together, then the runner catches up page by
  page as it always does);
- the journal is never rebuilt (it is the evidence `verify` compares the store with): a change of
  its layout needs an in-place step in JOURNAL_STEPS, or migrate refuses.

A store written before fingerprints were recorded (v0.1.0) is taken to have v0.1.0's layout,
whose fingerprints are kept below. Running migrate again finds nothing to do (idempotent).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from projections.database import SQLITE, ViewDatabase
from projections.page_view import PageView

SCHEMA_TABLE = "view_schema"

# The layouts v0.1.0 built (it recorded none): computed with that release's code.
V0_1_0_FINGERPRINTS = {
    "BooksView": "240fca503bfd21f9efdc08ccdb5f5a892ae8d346e08e8b1663a7bc39d3c73de6",
    "JournalView": "538e154efb5310aa0485af4025773fe32d14f767ee9bb1fd23cdd79dff14287b",
    "AuditFactsView": "0cc7ae775e64ccfaca8eb0c810fe1e30311b10ece3a48960eca8ca5618991ce5",
}

# Views whose rows are evidence, upgraded in place by named steps, never rebuilt.
KEPT_VIEWS = frozenset({"JournalView"})
# (view, fingerprint before) -> statements that bring the view's tables to this release's layout.
JOURNAL_STEPS: dict[tuple[str, str], Sequence[str]] = {}


class ViewsOutdated(RuntimeError):
    """The store's view tables were built by an earlier release: `fundledger migrate` first."""


class MigrationRefused(RuntimeError):
    """A kept view's layout changed and no in-place step says how to upgrade it."""


class _DdlRecorder:
    """Stands in for a database while a view creates its tables: keeps the statements."""

    dialect = SQLITE
    is_postgres = False

    def __init__(self) -> None:
        self.statements: list[str] = []

    def execute(self, statement: str, params: Sequence[object] = ()) -> None:
        del params
        self.statements.append(re.sub(r"\s+", " ", statement).strip())

    @contextmanager
    def transaction(self) -> Iterator[_DdlRecorder]:
        yield self


def view_name(view: PageView) -> str:
    return type(view).__name__


def fingerprint(view: PageView) -> str:
    """SHA-256 of the view's DDL: changes exactly when its tables or indexes change."""
    recorder = _DdlRecorder()
    view.create_tables(recorder)  # type: ignore[arg-type]
    return hashlib.sha256("\n".join(recorder.statements).encode()).hexdigest()


def create_table(db: ViewDatabase) -> None:
    db.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} (view TEXT PRIMARY KEY, "
               "fingerprint TEXT NOT NULL, recorded_at TEXT NOT NULL)")


def recorded(db: ViewDatabase) -> dict[str, str]:
    if not db.table_exists(SCHEMA_TABLE):
        return {}
    return {str(v): str(f) for v, f in db.rows(f"SELECT view, fingerprint FROM {SCHEMA_TABLE}")}  # noqa: S608


def record(db: ViewDatabase, views: Sequence[PageView]) -> None:
    """Inside a transaction: these views' tables now have this release's layout."""
    create_table(db)
    now = datetime.now(UTC).isoformat()
    for view in views:
        db.execute(f"INSERT INTO {SCHEMA_TABLE} (view, fingerprint, recorded_at) VALUES (?, ?, ?) "  # noqa: S608
                   "ON CONFLICT (view) DO UPDATE SET fingerprint = excluded.fingerprint, "
                   "recorded_at = excluded.recorded_at", (view_name(view), fingerprint(view), now))


@dataclass
class Plan:
    """What migrate has to do: views to rebuild, kept views to step, views only to record."""

    rebuild: list[PageView] = field(default_factory=list)
    step: list[tuple[PageView, Sequence[str]]] = field(default_factory=list)
    record: list[PageView] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    @property
    def current(self) -> bool:
        return not (self.rebuild or self.step or self.record or self.refused)

    def lines(self) -> list[str]:
        return ([f"rebuild {view_name(v)} from the event log" for v in self.rebuild]
                + [f"upgrade {view_name(v)} in place ({len(s)} statement(s))" for v, s in self.step]
                + [f"record {view_name(v)}'s layout" for v in self.record] + self.refused)


def plan(db: ViewDatabase, views: Sequence[PageView], position: int) -> Plan:
    """Compares each view's recorded layout with this release's. `position` is the views'
    tracked position: a store with nothing applied yet has nothing to upgrade."""
    stored = recorded(db)
    result = Plan()
    for view in views:
        name, now = view_name(view), fingerprint(view)
        before = stored.get(name)
        if before is None:
            if position == 0:
                result.record.append(view)
                continue
            before = V0_1_0_FINGERPRINTS.get(name, "")
        if before == now:
            if name not in stored:
                result.record.append(view)
            continue
        if name not in KEPT_VIEWS:
            result.rebuild.append(view)
        elif (name, before) in JOURNAL_STEPS:
            result.step.append((view, JOURNAL_STEPS[(name, before)]))
        else:
            result.refused.append(
                f"{name}'s tables changed (layout {before[:12] or 'unknown'} -> {now[:12]}) and "
                "no in-place step is known: add one to projections/view_schema.JOURNAL_STEPS")
    return result
