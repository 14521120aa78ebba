"""The view runner: keeps every view up to date with the ledger's notification log.

Built as the eventsourcing library's `ProjectionRunner` is (an application's notification log
on one side, a tracking recorder on the other), but batched: it reads the log a page at a time
and applies each page to all views in ONE transaction that also moves the tracking position.
A crash (even SIGKILL) between pages loses nothing and applies nothing twice; a restart
resumes from the tracked position. It runs in its own process (`fundledger project`) or as a
thread of the server (`runner.run_forever(stop_event)`).

It reads the log of the ledger it is handed: which store, which recorder and which settings is
decided once by whoever starts the process (api/store.py `open_view_runner`), never here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from domain.ledger import FundLedger
from domain.snapshot_keeping import SnapshotKeeper
from projections.books import BooksView
from projections.carry_over import CarryOverView
from projections.changes import ChangesView
from projections.database import StoreSettings, ViewDatabase
from projections.findings.facts import AuditFactsView
from projections.garbage_collection import fewer_collections
from projections.journal import JournalView, journal_head
from projections.page_view import PageView, decoded_page, events_wanted
from projections.stocks import StocksView
from projections.storable_text import holds_nul, nul_note, storable
from projections.tracking import ViewTrackingRecorder
from projections.view_parts import (
    OpenPart,
    build_in_processes,
    part_name,
    parts_default,
    shared_out,
    views_of,
)
from projections.view_schema import KEPT_VIEWS, MigrationRefused, Plan, ViewsOutdated, view_name
from projections.view_schema import plan as schema_plan
from projections.view_schema import record as record_schema

if TYPE_CHECKING:
    from eventsourcing.persistence import Notification

log = logging.getLogger(__name__)

PAGE_SIZE = 5000  # events per page: larger pages were faster up to ~20,000 (rebuild, 185k events)
POLL_SECONDS_MIN = 0.02
POLL_SECONDS_MAX = 0.25
ERROR_WAIT_SECONDS_MAX = 10.0

# Every view the runner keeps. A view module adds its class here, one line each; the class is
# constructed without arguments and must follow projections.page_view.PageView.
REGISTERED_VIEWS: list[type[PageView]] = [
    BooksView,
    JournalView,
    AuditFactsView,
    ChangesView,
    StocksView,
    CarryOverView,
]


def registered_views(names: Sequence[str]) -> list[PageView]:
    """The registered views of these names, new (for a part of a rebuild)."""
    return [view() for view in REGISTERED_VIEWS if view.name in names]


# (events done, events in the log) after each page, for progress bars.
Progress = Callable[[int, int], None]


class ViewRunner:
    """Applies the ledger's events to the registered views, page by page."""

    def __init__(self, settings: StoreSettings, *, ledger: FundLedger,
                 views: Sequence[PageView] | None = None, page_size: int = PAGE_SIZE,
                 check_schema: bool = True, owns_ledger: bool = False,
                 tracking_name: str | None = None, open_part: OpenPart | None = None) -> None:
        """`check_schema`: refuse (ViewsOutdated) a store whose view tables an earlier release
        built, until `fundledger migrate` has upgraded them (only migrate itself skips it).
        `owns_ledger`: close the ledger with the runner. `tracking_name`: the row this runner
        moves, when it is one part of a rebuild (projections/view_parts.py). `open_part`: how
        a worker process opens a part's runner; without it a rebuild is one part."""
        self.settings = settings
        self.page_size = page_size
        self.views: list[PageView] = list(views) if views is not None else [v() for v in REGISTERED_VIEWS]
        self._owns_ledger = owns_ledger
        self.ledger = ledger
        self.application_name = self.ledger.name
        self.tracking_name = tracking_name or self.application_name
        self._open_part = open_part
        # The runner that follows the whole log keeps the snapshots the write path leaves out
        # (domain/snapshot_keeping.py); a rebuild's parts and a rebuild itself do not.
        self.keeps_snapshots = tracking_name is None
        self._keeper = SnapshotKeeper(ledger)
        # The page holds only the events some view reads, when each names them (page_view.py).
        self._wanted = events_wanted(self.views)
        self.db = ViewDatabase.open(settings)
        self.tracking = ViewTrackingRecorder(self.db)
        # Pages failed in a row, and the last failure: /healthz reports them (issue 14).
        self.failures = 0
        self.last_error = ""
        # Events whose NUL text the PostgreSQL views show as U+FFFD (storable_text.py).
        self.nul_positions: list[int] = []
        try:
            self.create_tables()
            if check_schema:
                self._check_schema()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ tables

    def create_tables(self) -> None:
        self.tracking.create_table()
        with self.db.creating_tables():
            for view in self.views:
                view.create_tables(self.db)

    def schema_plan(self) -> Plan:
        """What `migrate` would do to bring the views' tables to this release's layout."""
        return schema_plan(self.db, self.views, self.position())

    def _check_schema(self) -> None:
        planned = self.schema_plan()
        if planned.rebuild or planned.step or planned.refused:
            msg = ("the views' tables were built by an earlier release (" + "; ".join(planned.lines())
                   + "): run `fundledger migrate` (docs/deployment.md, upgrades)")
            raise ViewsOutdated(msg)
        if planned.record:
            with self.db.transaction():
                record_schema(self.db, planned.record)

    def migrate(self, progress: Progress | None = None) -> tuple[Plan, int]:
        """Brings the views' tables to this release's layout in place; returns the plan and the
        events applied. The steps, the drop, the new tables, the reset position and the new
        layouts commit together; the refill then goes page by page, so a crash during it
        resumes where it stopped. Run twice, the second finds nothing to do."""
        planned = self.schema_plan()
        if planned.refused:
            raise MigrationRefused("; ".join(planned.refused))
        rebuilt = [v for v in self.views if view_name(v) not in KEPT_VIEWS] if planned.rebuild else []
        with self.db.transaction():
            for _, statements in planned.step:
                for statement in statements:
                    self.db.execute(statement)
            if rebuilt:
                for view in self.views:
                    view.drop_tables(self.db)  # a kept view keeps its rows
                self.tracking.drop_table()
                self.create_tables()
            record_schema(self.db, [*rebuilt, *planned.record, *(v for v, _ in planned.step)])
        if not rebuilt:
            return planned, 0
        with fewer_collections():
            return planned, self.run_until_caught_up(progress)

    def drop_tables(self) -> None:
        """The views and their position go together, in one transaction: a crash between
        would leave empty views with the old position kept, and the history before it lost."""
        with self.db.transaction():
            for view in self.views:
                view.drop_tables(self.db)
            self.tracking.drop_table()

    # ---------------------------------------------------------------- progress

    def position_or_none(self) -> int | None:
        try:
            return self.position()
        except Exception:  # the database is what failed: the position cannot be read either
            return None

    def position(self) -> int:
        """The position of the last event applied to the views."""
        return self.tracking.max_tracking_id(self.tracking_name) or 0

    def log_position(self) -> int:
        """The position of the last event in the ledger's log."""
        return self.ledger.recorder.max_notification_id() or 0

    def wait(self, position: int, timeout: float = 1.0) -> None:
        """Blocks until the views have processed `position` (TimeoutError after `timeout`)."""
        self.tracking.wait(self.tracking_name, position, timeout=timeout)

    # -------------------------------------------------------------- processing

    def process_page(self, stop: int | None = None) -> int:
        """Applies the next page (up to position `stop`), if any; returns how many events it
        applied."""
        start = self.position()
        notifications = self.ledger.recorder.select_notifications(
            start=start + 1, limit=self.page_size, stop=stop)
        if not notifications:
            return 0
        return self.apply_notifications(notifications)

    def apply_notifications(self, notifications: Sequence[Notification]) -> int:
        stored = None
        if self.db.is_postgres and any(holds_nul(n) for n in notifications):
            stored = [self._storable(n) for n in notifications]
        page = decoded_page(self.ledger.mapper, notifications, stored, self._wanted)
        last = notifications[-1].id
        with self.db.transaction():
            # Read again under lock: another runner may have applied some of the page meanwhile.
            if self.tracking_name != self.application_name:
                # A part's row is deleted when the parts are joined: a runner finishing the part
                # that comes after that (another process got there first) has nothing to do.
                found = self.tracking.locked_part_position(self.tracking_name)
                tracked, unjoined = (last if found is None else found), False
            else:
                tracked, unjoined = self.tracking.locked_position_and_parts(self.application_name)
            if not unjoined and last > tracked:
                page = [e for e in page if e.position > tracked]
                if page:
                    for view in self.views:
                        view.apply_page(self.db, page)
                # The page's last event, read by a view or not, is where the views now are.
                self.tracking.advance(self.tracking_name, last)
        if unjoined:  # a rebuild in parts is under way or was interrupted: finish it first
            return self.finish_parts()
        applied = [n for n in notifications if n.id > tracked]
        if self.keeps_snapshots and applied:
            # Events decoded from text the views store altered (NUL) are not the aggregate's.
            self._keep_snapshots(applied, [e.event for e in page] if stored is None else [])
        return len(applied)

    def _keep_snapshots(self, notifications: Sequence[Notification], decoded: list[Any]) -> None:
        """After the page is committed: a snapshot it failed to keep costs only speed."""
        try:
            self._keeper.keep([(n.originator_id, n.originator_version, n.topic)
                               for n in notifications], decoded)
        except Exception:
            log.warning("view runner: keeping snapshots after position %d failed",
                        notifications[-1].id, exc_info=True)

    def catch_up_to(self, end: int) -> int:
        """Applies pages until position `end`; returns the number of events applied."""
        total = 0
        while applied := self.process_page(stop=end):
            total += applied
        return total

    def finish_parts(self) -> int:
        """Brings every unjoined part of a rebuild to the log's end, each in turn in this
        process, and joins them (projections/view_parts.py); returns the most events a part
        applied."""
        applied = 0
        while parts := self.tracking.parts(self.application_name):
            end = max(self.log_position(), *parts.values())
            for part, position in sorted(parts.items()):
                if position < end:
                    with self._part(part) as runner:
                        applied = max(applied, runner.catch_up_to(end))
            if self.tracking.join_parts(self.application_name, end):
                log.info("view runner: the rebuild's parts are joined at position %d", end)
                break
        return applied

    def _part(self, part: str) -> ViewRunner:
        names = views_of(part)
        views = [v for v in self.views if v.name in names]
        if len(views) != len(names):
            msg = (f"a rebuild in parts ({part}) names views this runner does not keep: "
                   "run `fundledger rebuild` again")
            raise RuntimeError(msg)
        return ViewRunner(self.settings, ledger=self.ledger, views=views, page_size=self.page_size,
                          check_schema=False, tracking_name=part)

    def _storable(self, notification: Notification) -> Notification:
        """The event as PostgreSQL's views can hold it (projections/storable_text.py); the
        journal still links the stored bytes. Its position is logged and kept for /healthz."""
        if not holds_nul(notification):
            return notification
        if notification.id not in self.nul_positions:
            self.nul_positions.append(notification.id)
            log.warning("view runner: %s", nul_note(notification.id))
        return storable(notification)

    def run_until_caught_up(self, progress: Progress | None = None) -> int:
        """Applies pages until the log is exhausted; returns the number of events applied."""
        total = 0
        end = self.log_position() if progress else 0
        while True:
            applied = self.process_page()
            if not applied:
                return total
            total += applied
            if progress is not None:
                done = self.position()
                end = max(end, done)
                progress(done, end)

    def rebuild(self, progress: Progress | None = None, *, parts: int | None = None) -> int:
        """Drops every view and builds it again from the whole log; in `parts` processes at
        once where the store allows (default: projections/view_parts.py `parts_default`)."""
        wanted = parts_default(self.db.is_postgres) if parts is None else parts
        groups: list[list[str]] = []
        with self.db.transaction():
            self.drop_tables()
            self.create_tables()
            record_schema(self.db, [v for v in self.views if view_name(v) not in KEPT_VIEWS])
            if wanted > 1 and self._can_build_in_parts():
                # The journal is kept (KEPT_VIEWS): intact to the end, it is in no part (it has
                # nothing to do before the end, and the others then skip what only it reads).
                intact = journal_head(self.db) >= self.log_position()
                groups = shared_out([v for v in self.views if not (intact and v.name == "journal")],
                                    wanted)
            if len(groups) > 1:
                self.tracking.start_parts(self.application_name,
                                          [part_name(self.application_name, g) for g in groups])
        with fewer_collections(), self._no_snapshots_kept():
            applied = 0
            if len(groups) > 1 and self._open_part is not None:
                applied = build_in_processes(self, self._open_part, groups, self.log_position(),
                                             progress)
                applied = max(applied, self.finish_parts())
            return applied + self.run_until_caught_up(progress)

    @contextmanager
    def _no_snapshots_kept(self) -> Iterator[None]:
        """A rebuild replays history that was snapshotted as it was written."""
        keeps, self.keeps_snapshots = self.keeps_snapshots, False
        try:
            yield
        finally:
            self.keeps_snapshots = keeps

    def _can_build_in_parts(self) -> bool:
        """Parts need PostgreSQL (SQLite has one writer), a way to open them in other
        processes, and this runner's views to be the registered ones they would open."""
        registered = sorted(v.name for v in REGISTERED_VIEWS)
        return (self.db.is_postgres and self._open_part is not None
                and sorted(v.name for v in self.views) == registered)

    def run_forever(self, stop: threading.Event, poll_seconds: float = POLL_SECONDS_MAX) -> None:
        """Catches up, then follows the log until `stop` is set. A failing store is retried
        with back-off (the views stay at their last committed page meanwhile)."""
        wait = POLL_SECONDS_MIN
        error_wait = 0.5
        while not stop.is_set():
            try:
                applied = self.process_page()
            except Exception as error:
                # Never silently: /healthz reports the failure and the position it is stuck at.
                self.failures += 1
                self.last_error = f"{type(error).__name__}: {error}"[:500]
                log.exception("view runner: the page after position %s failed (%d in a row); "
                              "retrying in %.1f s", self.position_or_none(), self.failures,
                              error_wait)
                if stop.wait(error_wait):
                    break
                error_wait = min(error_wait * 2, ERROR_WAIT_SECONDS_MAX)
                self._reconnect()
                continue
            self.failures, self.last_error = 0, ""
            error_wait = 0.5
            if applied >= self.page_size:
                wait = POLL_SECONDS_MIN
                continue  # a full page: more is waiting
            if applied:
                # Caught up: the next page waits POLL_SECONDS_MIN for the writes meanwhile.
                # Polling again at once took each write alone under a steady trickle (one
                # client): a page's reads, transaction and commit per write, and the writer's
                # interpreter (the runner shares the server's) taken between its requests.
                wait = POLL_SECONDS_MIN
                if stop.wait(wait):
                    break
                continue
            if stop.wait(wait):
                break
            wait = min(wait * 2, poll_seconds)

    def _reconnect(self) -> None:
        try:
            self.db.close()
        except Exception:  # the old connection is being thrown away anyway
            log.debug("closing a broken view connection failed", exc_info=True)
        try:
            self.db = ViewDatabase.open(self.settings)
            self.tracking = ViewTrackingRecorder(self.db)
        except Exception:
            log.exception("view runner: reconnecting failed")

    def close(self) -> None:
        self.db.close()
        if self._owns_ledger:
            self.ledger.close()

    def __enter__(self) -> ViewRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
